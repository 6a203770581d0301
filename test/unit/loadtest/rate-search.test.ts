import { describe, expect, it } from '@jest/globals';
import { bestSustained, DEFAULT_RATE_SEARCH, isSustained, nextRate, type StepOutcome } from '../../../loadtest/rate-search.ts';

const policy = { ...DEFAULT_RATE_SEARCH, startRate: 1_000, growth: 2, precision: 1.1, maxSteps: 20, maxP99Ms: 500 };
const step = (target: number, achieved: number, p99Ms = 10, errors = 0): StepOutcome => ({ target, achieved, p99Ms, errors });

describe('rate search', () => {
  it('judges a step sustained only with >= 95% achieved, bounded p99 and no errors', () => {
    expect(isSustained(step(1_000, 950), policy)).toBe(true);
    expect(isSustained(step(1_000, 949), policy)).toBe(false);
    expect(isSustained(step(1_000, 1_000, 501), policy)).toBe(false);
    expect(isSustained(step(1_000, 1_000, 10, 1), policy)).toBe(false);
  });

  it('steps up geometrically while sustained, then bisects until precise enough', () => {
    const capacity = 5_000;
    const history: StepOutcome[] = [];
    for (let rate = nextRate(history, policy); rate !== undefined; rate = nextRate(history, policy)) {
      history.push(step(rate, Math.min(rate, capacity)));
    }
    expect(history.slice(0, 4).map((s) => s.target)).toEqual([1_000, 2_000, 4_000, 8_000]);
    const best = bestSustained(history, policy)!;
    expect(best.achieved).toBeGreaterThan(capacity / policy.precision);
    expect(best.achieved).toBeLessThanOrEqual(capacity);
  });

  it('halves when the very first step fails, and gives up after maxSteps', () => {
    expect(nextRate([step(1_000, 100)], policy)).toBe(500);
    const failing = Array.from({ length: policy.maxSteps }, (_, i) => step(1_000 / 2 ** i, 0));
    expect(nextRate(failing, policy)).toBeUndefined();
    expect(bestSustained(failing, policy)).toBeUndefined();
  });
});
