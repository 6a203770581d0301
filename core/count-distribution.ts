/**
 * A distribution of counts as a user writes it in a flag or a setting (how many lines an order
 * has, say):
 *
 *   `3`                       always 3
 *   `1-4`                     uniform over 1, 2, 3, 4
 *   `1:30,2:30,3:20,4:10,5:10` weighted: 1 with weight 30, 2 with 30, ... (weights are relative)
 *
 * Pure. A spec it refuses comes back as the problem in words, naming the part that is wrong, for
 * the setting's one-line error.
 */

export interface CountDistribution {
  /** The spec as given (trimmed): what logs and reports show. */
  readonly spec: string;
  /** Every count that can be drawn, ascending, each with its weight (> 0). */
  readonly weights: ReadonlyArray<{ readonly count: number; readonly weight: number }>;
  /** The expected count. */
  readonly mean: number;
}

export interface CountRange {
  min: number;
  max: number;
  /** What one count is, for the errors: "line count". */
  noun: string;
}

/** Why a spec was refused. */
export interface CountDistributionProblem {
  problem: string;
}

const COUNT = /^\d+$/;
const WEIGHT = /^\d+(\.\d+)?$/;

/** A distribution or the reason it is not one. */
export function parseCountDistribution(raw: string, range: CountRange): CountDistribution | CountDistributionProblem {
  const spec = raw.trim();
  const shape = 'expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)';
  if (spec === '') return { problem: shape };
  // In a spec of several parts, the error names the one that is wrong.
  const countOf = (text: string): number | CountDistributionProblem => {
    const value = COUNT.test(text) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= range.min && value <= range.max) return value;
    return { problem: `a ${range.noun} must be an integer from ${range.min} to ${range.max}${text === spec ? '' : `, got "${text}"`}` };
  };

  if (spec.includes(':')) {
    const weights: Array<{ count: number; weight: number }> = [];
    for (const part of spec.split(',').map((entry) => entry.trim())) {
      const [countText, weightText, extra] = part.split(':').map((entry) => entry.trim());
      if (countText === undefined || weightText === undefined || extra !== undefined) return { problem: `"${part}" is not N:W; ${shape}` };
      const count = countOf(countText);
      if (typeof count !== 'number') return count;
      const weight = WEIGHT.test(weightText) ? Number(weightText) : Number.NaN;
      if (!(weight > 0) || !Number.isFinite(weight)) return { problem: `a weight must be a positive number, got "${weightText}" in "${part}"` };
      if (weights.some((entry) => entry.count === count)) return { problem: `${range.noun} ${count} is given twice` };
      weights.push({ count, weight });
    }
    return distribution(spec, weights);
  }

  const bounds = /^(\d+)\s*-\s*(\d+)$/.exec(spec);
  if (bounds) {
    const low = countOf(bounds[1]!);
    if (typeof low !== 'number') return low;
    const high = countOf(bounds[2]!);
    if (typeof high !== 'number') return high;
    if (low > high) return { problem: `a range A-B needs A <= B, got ${low}-${high}` };
    return distribution(
      spec,
      Array.from({ length: high - low + 1 }, (_, index) => ({ count: low + index, weight: 1 })),
    );
  }
  if (!/^[+-]?\d+(\.\d+)?$/.test(spec)) return { problem: shape };
  const count = countOf(spec);
  return typeof count === 'number' ? distribution(spec, [{ count, weight: 1 }]) : count;
}

export function isCountDistribution(value: CountDistribution | CountDistributionProblem): value is CountDistribution {
  return 'weights' in value;
}

function distribution(spec: string, weights: Array<{ count: number; weight: number }>): CountDistribution {
  const sorted = [...weights].sort((a, b) => a.count - b.count);
  const total = sorted.reduce((sum, entry) => sum + entry.weight, 0);
  const mean = sorted.reduce((sum, entry) => sum + entry.count * entry.weight, 0) / total;
  return { spec, weights: sorted, mean };
}
