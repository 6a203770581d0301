/**
 * When did processing resume after a fault? Answered from the monitor's samples alone (pure):
 * the processors' committed offsets, the source's stored orders and the relay's published
 * events must each move again once the service is back.
 */
import type { FaultKind } from './schedule.ts';

/** One look at the pipeline; a field is undefined when its service did not answer in time. */
export interface Sample {
  atMs: number;
  storedOrders?: number;
  decidedOrders?: number;
  /** Next offset stored in the database, per partition of every topic the topology consumes (named by the monitor: `orders[3]`). */
  offsets?: Map<string, bigint>;
  /** High watermark per partition of every topic the topology consumes. */
  highWatermarks?: Map<string, bigint>;
  /** Records on the topics the relay publishes to. */
  publishedEvents?: number;
  unpublishedOutbox?: number;
}

/**
 * `processor`: every partition with work committed again. `consumed-past`: every partition
 * consumed past what was on the topic when the fault ended (for poison: past the bad records).
 */
export type Component = 'processor' | 'consumed-past' | 'source' | 'relay';

export function componentsOf(kind: FaultKind): Component[] {
  switch (kind) {
    case 'processor-kill':
      return ['processor'];
    case 'poison':
      return ['consumed-past'];
    case 'relay-kill':
      return ['relay'];
    case 'source-kill':
      return ['source'];
    default:
      return ['processor', 'source', 'relay'];
  }
}

export interface Recovery {
  /** Milliseconds from `backAtMs` until every component moved; undefined if one has not yet. */
  recoveryMs: number | undefined;
  detail: string;
}

/** A partition that was behind and did not commit for this long before the fault was already stuck: not this fault's doing. */
const STALL_WINDOW_MS = 10_000;

export function measureRecovery(samples: readonly Sample[], fault: { startedAtMs: number; backAtMs: number; components: readonly Component[] }): Recovery {
  // Only samples taken after the service came back count: a commit seen between the last
  // sample before the fault and the fault itself must not pass for a resumption.
  const after = samples.filter((sample) => sample.atMs >= fault.backAtMs);
  const times: string[] = [];
  const missing: string[] = [];
  let worst = 0;
  for (const component of fault.components) {
    const result =
      component === 'processor'
        ? processorResumed(samples, after, fault.startedAtMs)
        : component === 'consumed-past'
          ? consumedPast(samples, after, fault.startedAtMs)
          : simpleResumed(component, after);
    if (result.atMs === undefined) missing.push(`${component} ${result.why}`);
    else {
      const ms = Math.max(0, result.atMs - fault.backAtMs);
      worst = Math.max(worst, ms);
      times.push(`${component} ${(ms / 1000).toFixed(1)}s${result.note ? ` (${result.note})` : ''}`);
    }
  }
  if (missing.length > 0) return { recoveryMs: undefined, detail: [...missing, ...times].join(', ') };
  return { recoveryMs: worst, detail: times.join(', ') };
}

interface Resumed {
  atMs: number | undefined;
  why?: string;
  note?: string;
}

/** The first sample after the service came back that has `key`: what later samples are compared with. */
function baseline<K extends keyof Sample>(after: readonly Sample[], key: K): Sample | undefined {
  return after.find((sample) => sample[key] !== undefined);
}

function simpleResumed(component: 'source' | 'relay', after: readonly Sample[]): Resumed {
  if (component === 'source') {
    const base = baseline(after, 'storedOrders');
    const moved = base && after.find((sample) => sample.atMs > base.atMs && sample.storedOrders !== undefined && sample.storedOrders > base.storedOrders!);
    return moved ? { atMs: moved.atMs } : { atMs: undefined, why: `stored no order since (${base?.storedOrders ?? '?'} stored)` };
  }
  const base = baseline(after, 'publishedEvents');
  const moved = after.find(
    (sample) => sample.unpublishedOutbox === 0 || (base !== undefined && sample.atMs > base.atMs && sample.publishedEvents !== undefined && sample.publishedEvents > base.publishedEvents!),
  );
  return moved ? { atMs: moved.atMs } : { atMs: undefined, why: `published nothing since (outbox backlog ${after.findLast((sample) => sample.unpublishedOutbox !== undefined)?.unpublishedOutbox ?? '?'})` };
}

function processorResumed(all: readonly Sample[], after: readonly Sample[], startedAtMs: number): Resumed {
  const base = after.find((sample) => sample.offsets && sample.highWatermarks);
  if (!base) return { atMs: undefined, why: 'could not be observed (no database and broker answer since)' };
  const stalled = stalledPartitions(all, startedAtMs);
  let waiting: string[] = [];
  for (const sample of after) {
    if (sample.atMs < base.atMs || !sample.offsets || !sample.highWatermarks) continue;
    waiting = [];
    for (const [partition, highWatermark] of sample.highWatermarks) {
      if (stalled.has(partition)) continue;
      const offset = sample.offsets.get(partition) ?? 0n;
      // Behind, and no commit since the baseline (at the baseline itself: simply behind).
      if (offset < highWatermark && offset <= (base.offsets!.get(partition) ?? 0n)) waiting.push(partition);
    }
    if (waiting.length === 0) return { atMs: sample.atMs, ...(stalled.size > 0 ? { note: `partitions ${[...stalled].join(',')} were stuck before the fault` } : {}) };
  }
  return { atMs: undefined, why: `partitions ${waiting.length > 0 ? waiting.join(',') : '?'} committed nothing since` };
}

function consumedPast(all: readonly Sample[], after: readonly Sample[], startedAtMs: number): Resumed {
  const marks = after.find((sample) => sample.highWatermarks)?.highWatermarks;
  if (!marks) return { atMs: undefined, why: 'could not read the topic' };
  const stalled = stalledPartitions(all, startedAtMs);
  let behind: string[] = [];
  for (const sample of after) {
    if (!sample.offsets) continue;
    behind = [...marks].filter(([partition, mark]) => !stalled.has(partition) && (sample.offsets!.get(partition) ?? 0n) < mark).map(([partition]) => partition);
    if (behind.length === 0) return { atMs: sample.atMs, ...(stalled.size > 0 ? { note: `partitions ${[...stalled].join(',')} were stuck before the fault` } : {}) };
  }
  return { atMs: undefined, why: `partitions ${behind.length > 0 ? behind.join(',') : '?'} never got past the records on the topic when the fault ended` };
}

/** Partitions behind their high watermark whose offset did not move in the window before the fault. */
export function stalledPartitions(samples: readonly Sample[], startedAtMs: number): Set<string> {
  const window = samples.filter((sample) => sample.offsets && sample.highWatermarks && sample.atMs <= startedAtMs);
  const last = window[window.length - 1];
  const first = last ? window.findLast((sample) => sample.atMs <= last.atMs - STALL_WINDOW_MS) : undefined;
  const stalled = new Set<string>();
  if (!first || !last || first === last) return stalled;
  for (const [partition, highWatermark] of last.highWatermarks!) {
    const offset = last.offsets!.get(partition) ?? 0n;
    if (offset < highWatermark && offset === (first.offsets!.get(partition) ?? 0n)) stalled.add(partition);
  }
  return stalled;
}
