/**
 * Drives an OrderSource for the load generator: one run at a fixed rate, or a `--rate max`
 * search made of steps, with a progress sample every `tickMs` (target vs achieved rate over
 * the last interval, interval latency, errors, unpublished backlog) and the peak RSS.
 */

import type { LatencyPercentiles } from '../app/order-source/latency-recorder.ts';
import type { OrderSource, RunControl, RunResult } from '../app/order-source/order-source.ts';
import type { Logger } from '../core/logger.ts';
import type { TimelinePoint } from './html-chart.ts';
import type { ProgressSample } from './progress.ts';
import { bestSustained, DEFAULT_RATE_SEARCH, isSustained, nextRate, type RateSearchPolicy, type StepOutcome } from './rate-search.ts';

export type LoadPlan =
  | { kind: 'fixed'; ratePerSecond: number; durationMs?: number; count?: number }
  | { kind: 'max'; stepMs: number; policy?: Partial<RateSearchPolicy> };

export interface LoadOutcome {
  runs: RunResult[];
  /** For a search: every step and the best sustained one. */
  steps: Array<StepOutcome & { sustained: boolean }>;
  best: RunResult | undefined;
  timeline: TimelinePoint[];
  rssPeakBytes: number;
  elapsedMs: number;
}

export interface DriveOptions {
  logger: Logger;
  control: RunControl;
  onProgress?: (sample: ProgressSample) => void;
  tickMs?: number;
  clock?: () => number;
}

export async function driveLoad(source: OrderSource, plan: LoadPlan, options: DriveOptions): Promise<LoadOutcome> {
  const clock = options.clock ?? (() => performance.now());
  const startedMs = clock();
  const timeline: TimelinePoint[] = [];
  let currentTarget = plan.kind === 'fixed' ? plan.ratePerSecond : 0;
  let rssPeakBytes = process.memoryUsage.rss();
  let previous = { atMs: startedMs, published: source.counters().published };

  const tick = () => {
    const now = clock();
    const counters = source.counters();
    const latency: LatencyPercentiles = source.takeIntervalLatency();
    const achieved = ((counters.published - previous.published) * 1000) / Math.max(1, now - previous.atMs);
    previous = { atMs: now, published: counters.published };
    rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage.rss());
    const sample: ProgressSample = {
      elapsedMs: now - startedMs,
      targetRate: currentTarget,
      achievedRate: achieved,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      errors: counters.errors,
      backlog: counters.backlog,
    };
    timeline.push({ t: sample.elapsedMs / 1000, target: currentTarget, achieved, p50Ms: latency.p50, p99Ms: latency.p99, backlog: counters.backlog });
    options.onProgress?.(sample);
  };
  const ticker = setInterval(tick, options.tickMs ?? 1000);

  const runs: RunResult[] = [];
  const steps: LoadOutcome['steps'] = [];
  try {
    if (plan.kind === 'fixed') {
      runs.push(await source.run(plan, options.control));
    } else {
      const policy = { ...DEFAULT_RATE_SEARCH, ...plan.policy };
      for (let rate = nextRate(steps, policy); rate !== undefined; rate = nextRate(steps, policy)) {
        currentTarget = rate;
        const result = await source.run({ ratePerSecond: rate, durationMs: plan.stepMs }, options.control);
        runs.push(result);
        if (result.stopped) break;
        const outcome = { target: rate, achieved: result.achievedRate, p99Ms: result.latency.p99, errors: result.errors };
        steps.push({ ...outcome, sustained: isSustained(outcome, policy) });
        options.logger.info(`step ${steps.length}: target ${rate}/s`, {
          achieved: Math.round(result.achievedRate),
          p99Ms: result.latency.p99,
          errors: result.errors,
          sustained: isSustained(outcome, policy),
        });
      }
    }
  } finally {
    clearInterval(ticker);
  }
  tick();

  let best: RunResult | undefined = runs[0];
  if (plan.kind === 'max') {
    const policy = { ...DEFAULT_RATE_SEARCH, ...plan.policy };
    const winner = bestSustained(steps, policy);
    best = winner === undefined ? undefined : runs[steps.indexOf(steps.find((s) => s.target === winner.target)!)];
  }
  return { runs, steps, best, timeline, rssPeakBytes, elapsedMs: clock() - startedMs };
}
