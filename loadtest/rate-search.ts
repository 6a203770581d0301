/**
 * `--rate max`: find the highest rate the source sustains. Steps up geometrically while each
 * step is sustained, then bisects between the best sustained and the lowest failed target.
 * Pure: the caller runs each step and hands back its outcome.
 */
export interface StepOutcome {
  target: number;
  achieved: number;
  p99Ms: number;
  errors: number;
}

export interface RateSearchPolicy {
  startRate: number;
  /** Factor between steps while every step is sustained. */
  growth: number;
  /** A step is sustained when achieved >= sustainRatio * target ... */
  sustainRatio: number;
  /** ... and its p99 publish latency stays at or below this (open-loop latency explodes past saturation). */
  maxP99Ms: number;
  maxSteps: number;
  /** Bisection stops when the failed target is within this factor of the sustained one. */
  precision: number;
}

export const DEFAULT_RATE_SEARCH: RateSearchPolicy = {
  startRate: 5_000,
  growth: 1.5,
  sustainRatio: 0.95,
  maxP99Ms: 1_000,
  maxSteps: 12,
  precision: 1.1,
};

export function isSustained(step: StepOutcome, policy: RateSearchPolicy): boolean {
  return step.errors === 0 && step.achieved >= policy.sustainRatio * step.target && step.p99Ms <= policy.maxP99Ms;
}

/** The sustained step with the highest achieved rate, if any. */
export function bestSustained(history: readonly StepOutcome[], policy: RateSearchPolicy): StepOutcome | undefined {
  let best: StepOutcome | undefined;
  for (const step of history) if (isSustained(step, policy) && (!best || step.achieved > best.achieved)) best = step;
  return best;
}

/** The target of the next step, or undefined when the search is over. */
export function nextRate(history: readonly StepOutcome[], policy: RateSearchPolicy): number | undefined {
  if (history.length === 0) return policy.startRate;
  if (history.length >= policy.maxSteps) return undefined;
  const passed = history.filter((step) => isSustained(step, policy)).map((step) => step.target);
  const failed = history.filter((step) => !isSustained(step, policy)).map((step) => step.target);
  const low = passed.length > 0 ? Math.max(...passed) : undefined;
  const high = failed.length > 0 ? Math.min(...failed) : undefined;
  if (high === undefined) return Math.round(low! * policy.growth);
  if (low === undefined) return high / 2 >= 1 ? Math.round(high / 2) : undefined;
  if (high / low <= policy.precision) return undefined;
  return Math.round((low + high) / 2);
}
