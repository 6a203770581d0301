// Tests core/random.ts (kept here because this task owns test/unit/processors/ only).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createRandom, createUuidV7Source, deriveRandom, isUuidV7, uuidV7Timestamp, uuidv7 } from '../../../core/random.ts';

function draws(seed: number, count: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => random.nextUint32());
}

describe('createRandom', () => {
  it('repeats its stream for a seed and differs between nearby seeds', () => {
    expect(draws(42, 20)).toEqual(draws(42, 20));
    expect(draws(42, 20)).not.toEqual(draws(43, 20));
    expect(draws(2 ** 40, 5)).not.toEqual(draws(0, 5));
    expect(draws(0, 5).every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32)).toBe(true);
  });

  it('gives floats in [0, 1) with a mean near 0.5, and unbiased bounded ints', () => {
    const random = createRandom(7);
    const counts = new Array<number>(6).fill(0);
    let sum = 0;
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const x = random.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      counts[random.nextInt(6)]! += 1;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    for (const count of counts) expect(Math.abs(count - n / 6)).toBeLessThan(0.05 * (n / 6));
  });

  it('refuses nonsense seeds and bounds', () => {
    expect(() => createRandom(Number.NaN)).toThrow(RangeError);
    expect(() => createRandom(1).nextInt(0)).toThrow(RangeError);
  });

  it('derives independent labelled streams', () => {
    const a = deriveRandom(1, 'order-ids');
    const b = deriveRandom(1, 'other');
    expect(a.nextUint32()).not.toBe(b.nextUint32());
    expect(deriveRandom(1, 'order-ids').nextUint32()).toBe(deriveRandom(1, 'order-ids').nextUint32());
  });
});

describe('uuidv7', () => {
  const NOW = Date.parse('2026-11-03T10:15:30.123Z');

  it('produces RFC 9562 version-7 UUIDs carrying the timestamp', () => {
    const id = uuidv7(NOW, createRandom(1));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUuidV7(id)).toBe(true);
    expect(uuidV7Timestamp(id)).toBe(NOW);
    expect(uuidv7(NOW, createRandom(1))).toBe(id);
    expect(uuidv7(NOW, createRandom(2))).not.toBe(id);
  });

  it('encodes the full 48-bit timestamp range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer(), (ms, seed) => {
        const id = uuidv7(ms, createRandom(seed));
        expect(isUuidV7(id)).toBe(true);
        expect(uuidV7Timestamp(id)).toBe(ms);
      }),
    );
    expect(() => uuidv7(-1, createRandom(1))).toThrow(RangeError);
    expect(() => uuidv7(2 ** 48, createRandom(1))).toThrow(RangeError);
  });

  it('sorts by time across milliseconds', () => {
    const random = createRandom(3);
    const ids = Array.from({ length: 200 }, (_, i) => uuidv7(NOW + i, random));
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('createUuidV7Source', () => {
  it('strictly increases within a millisecond, across milliseconds and when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 300 }), fc.integer(), (steps, seed) => {
        const next = createUuidV7Source(createRandom(seed));
        let clock = 1_700_000_000_000;
        let previous = '';
        for (const step of steps) {
          clock += step;
          const id = next(clock);
          expect(isUuidV7(id)).toBe(true);
          expect(id > previous).toBe(true);
          expect(uuidV7Timestamp(id)).toBeGreaterThanOrEqual(clock);
          previous = id;
        }
      }),
    );
  });

  it('stays unique for many ids in one millisecond', () => {
    const next = createUuidV7Source(createRandom(9));
    const ids = Array.from({ length: 50_000 }, () => next(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
