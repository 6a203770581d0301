import { describe, expect, it } from '@jest/globals';
import { WakeSignal } from '../../../sinks/wake-signal.ts';

const LONG_MS = 60_000;

describe('WakeSignal', () => {
  it('wakes a waiting loop at once on a ring', async () => {
    const signal = new WakeSignal();
    const started = performance.now();
    const waiting = signal.wait(LONG_MS);
    signal.ring();
    expect(await waiting).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('keeps a ring that came while nobody waited, for the next wait only', async () => {
    const signal = new WakeSignal();
    signal.ring();
    signal.ring();
    expect(await signal.wait(LONG_MS)).toBe(true);
    expect(await signal.wait(1)).toBe(false);
  });

  it('times out without a ring, so polling stays the fallback', async () => {
    expect(await new WakeSignal().wait(5)).toBe(false);
  });

  it('returns on abort, already aborted or during the wait', async () => {
    const signal = new WakeSignal();
    const controller = new AbortController();
    const waiting = signal.wait(LONG_MS, controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await signal.wait(LONG_MS, controller.signal)).toBe(false);
  });
});
