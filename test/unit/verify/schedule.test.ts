import { describe, expect, it } from '@jest/globals';
import { defaultBrokerOutageMs, FAULT_KINDS, parseFaultList, planFaults, type ScheduleOptions } from '../../../verify/schedule.ts';

const options: ScheduleOptions = {
  faults: [...FAULT_KINDS],
  seed: 7,
  durationMs: 60_000,
  processorReplicas: 2,
  brokers: 3,
  brokerOutageMs: 12_000,
  roleRestartDelayMs: 1_000,
};

describe('planFaults', () => {
  it('is a pure function of the seed: the same seed gives the same schedule, another seed another order', () => {
    expect(planFaults(options)).toEqual(planFaults({ ...options }));
    const orders = new Set([1, 2, 3, 4, 5].map((seed) => planFaults({ ...options, seed }).map((fault) => fault.kind).join(',')));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('plans every requested fault once, in increasing time, inside the middle of the run', () => {
    const plan = planFaults(options);
    expect(plan.map((fault) => fault.kind).sort()).toEqual([...FAULT_KINDS].sort());
    const times = plan.map((fault) => fault.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(6_000);
    expect(times[times.length - 1]).toBeLessThan(60_000 * 0.85);
  });

  it('gives the outages: broker kill the full outage, a pause half of it, role kills the restart delay, the rest none', () => {
    const byKind = new Map(planFaults(options).map((fault) => [fault.kind, fault]));
    expect(byKind.get('broker-kill')!.outageMs).toBe(12_000);
    expect(byKind.get('broker-pause')!.outageMs).toBe(6_000);
    expect(byKind.get('processor-kill')!.outageMs).toBe(1_000);
    expect(byKind.get('pg-restart')!.outageMs).toBe(0);
  });

  it('picks targets among the replicas and brokers that exist', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const fault of planFaults({ ...options, seed })) {
        if (fault.kind === 'processor-kill') expect(fault.target).toBeLessThan(2);
        else if (fault.kind.startsWith('broker-')) expect(fault.target).toBeLessThan(3);
        else expect(fault.target).toBe(0);
      }
    }
    expect(planFaults({ ...options, brokers: 1 }).filter((fault) => fault.kind.startsWith('broker-')).every((fault) => fault.target === 0)).toBe(true);
  });

  it('plans repeated kinds as often as asked, and nothing for no faults', () => {
    expect(planFaults({ ...options, faults: ['poison', 'poison', 'pg-restart'] }).map((fault) => fault.kind).sort()).toEqual(['pg-restart', 'poison', 'poison']);
    expect(planFaults({ ...options, faults: [] })).toEqual([]);
  });
});

describe('defaultBrokerOutageMs', () => {
  it('is the full 60 s from a 5-minute run on, proportional below, never under 12 s', () => {
    expect(defaultBrokerOutageMs(300_000)).toBe(60_000);
    expect(defaultBrokerOutageMs(600_000)).toBe(60_000);
    expect(defaultBrokerOutageMs(150_000)).toBe(30_000);
    expect(defaultBrokerOutageMs(60_000)).toBe(12_000);
    expect(defaultBrokerOutageMs(10_000)).toBe(12_000);
  });
});

describe('parseFaultList', () => {
  it('reads all, none, lists and repeats, and rejects unknown kinds', () => {
    expect(parseFaultList('all')).toEqual([...FAULT_KINDS]);
    expect(parseFaultList('none')).toEqual([]);
    expect(parseFaultList('poison, pg-restart')).toEqual(['poison', 'pg-restart']);
    expect(parseFaultList('processor-kill,processor-kill')).toEqual(['processor-kill', 'processor-kill']);
    expect(parseFaultList('broker-kil')).toBeUndefined();
  });
});
