import { describe, expect, it } from '@jest/globals';
import { BackpressureGate } from '../../../topology/runtime/backpressure.ts';

describe('BackpressureGate', () => {
  it('pauses a partition above its limit and resumes it only below half (hysteresis)', () => {
    const gate = new BackpressureGate({ maxInflightPerPartition: 10, maxInflightTotal: 1_000 });
    expect(gate.evaluate(new Map([['t[0]', 10]])).size).toBe(0);
    expect(gate.evaluate(new Map([['t[0]', 11]])).get('t[0]')).toBe('partition');
    expect(gate.evaluate(new Map([['t[0]', 5]])).get('t[0]')).toBe('partition');
    expect(gate.evaluate(new Map([['t[0]', 4]])).has('t[0]')).toBe(false);
  });

  it('pauses every partition when the total passes its limit, and resumes below half', () => {
    const gate = new BackpressureGate({ maxInflightPerPartition: 100, maxInflightTotal: 20 });
    const over = gate.evaluate(new Map([['t[0]', 15], ['t[1]', 6]]));
    expect([...over]).toEqual([['t[0]', 'total'], ['t[1]', 'total']]);
    expect(gate.evaluate(new Map([['t[0]', 5], ['t[1]', 5]])).size).toBe(2);
    expect(gate.evaluate(new Map([['t[0]', 5], ['t[1]', 4]])).size).toBe(0);
  });

  it('forgets partitions that are gone', () => {
    const gate = new BackpressureGate({ maxInflightPerPartition: 1, maxInflightTotal: 100 });
    gate.evaluate(new Map([['t[0]', 5]]));
    gate.evaluate(new Map());
    expect(gate.evaluate(new Map([['t[0]', 1]])).size).toBe(0);
  });
});
