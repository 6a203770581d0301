import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../core/errors.ts';
import { defaultStock, parseVerifyOptions } from '../../../verify/options.ts';
import { FAULT_KINDS } from '../../../verify/schedule.ts';

describe('parseVerifyOptions', () => {
  it('has defaults for everything: a 60 s run with every fault, one broker, two replicas', () => {
    const options = parseVerifyOptions({});
    expect(options).toMatchObject({ durationMs: 60_000, rate: 100, seed: 1, brokers: 1, processorReplicas: 2, brokerOutageMs: 12_000, json: false, keepLogs: false });
    expect(options.faults).toEqual([...FAULT_KINDS]);
    expect(options.lines).toMatchObject({ spec: '1:30,2:30,3:20,4:10,5:10', mean: 2.4 });
  });

  it('reads --lines as a count distribution and names the part it refuses', () => {
    expect(parseVerifyOptions({ lines: '1-3' }).lines).toMatchObject({ spec: '1-3', mean: 2 });
    expect(() => parseVerifyOptions({ lines: '1:30,0:5' })).toThrow('invalid setting --lines "1:30,0:5": a line count must be an integer from 1 to 100, got "0"');
  });

  it('reads the issue command: --duration 5m --faults all, with the full 60 s outage', () => {
    const options = parseVerifyOptions({ duration: '5m', faults: 'all', brokers: '3', json: 'true' });
    expect(options).toMatchObject({ durationMs: 300_000, brokers: 3, brokerOutageMs: 60_000, json: true });
    expect(parseVerifyOptions({ 'keep-logs': 'true' }).keepLogs).toBe(true);
  });

  it('lets --outage override the scaled default', () => {
    expect(parseVerifyOptions({ duration: '60s', outage: '20s' }).brokerOutageMs).toBe(20_000);
  });

  it.each([
    [{ duration: 'soon' }, '--duration'],
    [{ duration: '1s' }, '--duration'],
    [{ rate: '0' }, '--rate'],
    [{ brokers: '2' }, '--brokers'],
    [{ faults: 'all,meteor' }, '--faults'],
    [{ client: 'rdkafka' }, '--client'],
    [{ replicas: '13' }, '--replicas'],
    [{ lines: 'many' }, '--lines'],
  ])('rejects %j naming %s', (flags, name) => {
    expect(() => parseVerifyOptions(flags)).toThrow(ConfigError);
    expect(() => parseVerifyOptions(flags)).toThrow(name);
  });

  it('rejects positional arguments', () => {
    expect(() => parseVerifyOptions({}, ['5m'])).toThrow('arguments');
  });
});

describe('defaultStock', () => {
  it('is about 5% of the units a run orders (2 per line), at least 10', () => {
    const lines = (mean: number) => ({ spec: '', weights: [], mean });
    expect(defaultStock({ rate: 100, durationMs: 60_000, lines: lines(1) })).toBe(600);
    expect(defaultStock({ rate: 100, durationMs: 60_000, lines: lines(2.4) })).toBe(1440);
    expect(defaultStock({ rate: 1, durationMs: 5_000, lines: lines(1) })).toBe(10);
  });
});

describe('--brokers 3', () => {
  it('always kills one broker mid-run, even when the fault list has no broker-kill', () => {
    expect(parseVerifyOptions({ brokers: '3', faults: 'none' }).faults).toEqual(['broker-kill']);
    expect(parseVerifyOptions({ brokers: '3', faults: 'broker-kill,poison' }).faults).toEqual(['broker-kill', 'poison']);
    expect(parseVerifyOptions({ brokers: '1', faults: 'none' }).faults).toEqual([]);
  });
});
