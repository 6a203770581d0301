/** What happens to a fetched partition: admitted records go to the handler, the position moves on. */
import type { Logger } from '../../core/logger.ts';
import type { AssignmentTracker } from '../assignment.ts';
import { OffsetOutOfRangeError, type RecordBatch } from '../port.ts';
import type { FetchedPartition, OutOfRangePartition } from './fetcher.ts';

type DeliveryHandlers = { onBatch(batch: RecordBatch): void; onError(error: unknown): void };

/**
 * Delivers one fetch round. Admission is decided for the whole round when it arrives: a pause
 * that delivering one partition triggers (the runtime's total in-flight bound) must not throw
 * away records of the same round that were already fetched and decoded — that would fetch and
 * decode them again and again, feeding one partition at a time. Pausing stops the NEXT fetch.
 */
export function deliverRound(tracker: AssignmentTracker, round: FetchedPartition[], handlers: DeliveryHandlers, logger: Logger): void {
  const admitted = round.flatMap((fetched) => {
    const admission = tracker.admit(fetched, fetched.fetchedFrom);
    // 'reseek' cannot happen here (the loop fetches from the tracker's positions); like 'drop',
    // the partition is simply fetched again from its position next round.
    return admission.action === 'deliver' ? [{ fetched, from: admission.from }] : [];
  });
  for (const { fetched, from } of admitted) deliver(tracker, fetched, from, handlers, logger);
}

/** A throwing onBatch is reported to onError; its records count as delivered all the same. */
function deliver(tracker: AssignmentTracker, fetched: FetchedPartition, from: bigint, handlers: DeliveryHandlers, logger: Logger): void {
  // Revoked (or re-positioned) while an earlier partition of the round was being delivered.
  if (tracker.admit(fetched, fetched.fetchedFrom).action === 'reseek') return;
  const records = fetched.records.filter((record) => record.offset >= from);
  tracker.advance(fetched, fetched.nextOffset);
  if (records.length === 0) return;
  logger.debug('batch', { topic: fetched.topic, partition: fetched.partition, first: String(records[0]!.offset), count: records.length });
  try {
    handlers.onBatch({ topic: fetched.topic, partition: fetched.partition, records });
  } catch (error) {
    handlers.onError(error);
  }
}

/**
 * A start offset below the log start (retention deleted those records) moves to the log
 * start, loudly; beyond the log end the partition stops being read (never re-fetched in a
 * loop) and the runtime is told, to decide where it continues.
 */
export function resolveOutOfRange(
  tracker: AssignmentTracker,
  partition: OutOfRangePartition,
  onError: (error: unknown) => void,
  logger: Logger,
): void {
  const admission = tracker.admit(partition, partition.fetchedFrom);
  if (admission.action !== 'deliver') return;
  if (partition.fetchedFrom < partition.logStartOffset) {
    logger.warn('offset below log start: records were deleted by retention, continuing at log start', {
      topic: partition.topic,
      partition: partition.partition,
      offset: String(partition.fetchedFrom),
      logStartOffset: String(partition.logStartOffset),
    });
    tracker.advance(partition, partition.logStartOffset);
    return;
  }
  tracker.halt(partition);
  onError(
    new OffsetOutOfRangeError({
      topic: partition.topic,
      partition: partition.partition,
      offset: partition.fetchedFrom,
      // An error response carries -1 for both when the broker does not say.
      ...(partition.highWatermark >= 0n ? { logStartOffset: partition.logStartOffset, logEndOffset: partition.highWatermark } : {}),
    }),
  );
}
