/** The load generator's machine-readable report and its verdict. Pure. */
import type { LatencyPercentiles } from '../app/order-source/latency-recorder.ts';
import type { StepOutcome } from './rate-search.ts';

export interface LoadtestReport {
  /** The target rate in orders/s, or 'max' for a search. */
  target: number | 'max';
  /** Orders/s published: of the run, or of the best sustained step of a search. */
  achieved: number;
  /** Orders published (all runs together, recovery excluded). */
  count: number;
  /** The --lines spec the orders were drawn from. */
  lines: string;
  /** Mean lines per published order (0 when none was published). */
  linesPerOrder: number;
  /** Orders re-published at start (stored by an earlier run, not yet published). */
  recovered: number;
  errors: number;
  latency: { p50: number; p90: number; p99: number; p999: number; max: number };
  client: string;
  sourceId: string;
  partitions: number;
  /** CPU time of this process in milliseconds (process.cpuUsage). */
  cpu: { userMs: number; systemMs: number };
  rssPeakBytes: number;
  durationMs: number;
  /** Whether the run was cut short by Ctrl-C. */
  stopped: boolean;
  /** Every step of a `--rate max` search. */
  steps?: Array<StepOutcome & { sustained: boolean }>;
  startedAt: string;
}

/** Achieved below this share of the target fails the run. */
export const SUSTAIN_RATIO = 0.95;

export function latencyFields(latency: LatencyPercentiles): LoadtestReport['latency'] {
  return { p50: latency.p50, p90: latency.p90, p99: latency.p99, p999: latency.p999, max: latency.max };
}

/**
 * 0 when the target was met without errors; 3 when errors happened, or the achieved rate
 * stayed below 95% of the target, or a search found no sustained rate. A run stopped by
 * Ctrl-C is judged on what it did (its achieved rate covers the time it ran).
 */
export function loadtestExitCode(report: LoadtestReport): number {
  if (report.errors > 0) return 3;
  if (report.target === 'max') return report.achieved > 0 ? 0 : 3;
  return report.achieved >= SUSTAIN_RATIO * report.target ? 0 : 3;
}
