/**
 * Finding the record behind a batch-level failure. A commit is one transaction for a whole
 * micro-batch, so a database error caused by one record (a value a constraint refuses) fails
 * all of them, and so may a processor's flush. Retrying the same batch cannot help and
 * dead-lettering all of it would throw good records away; instead the batch is halved, each
 * half run again from the committed state (processors are deterministic given the store state),
 * recursively, until the failing record stands alone. It becomes a dead letter; every other
 * record commits. With one bad record in n, that costs about 2·log2(n) extra attempts.
 */

export interface IsolationSteps<R> {
  /** Runs and commits `part` as one batch; throws when it cannot. */
  attempt(part: readonly R[]): Promise<void>;
  /** Whether the failure may lie in the part's records (otherwise it is rethrown as is). */
  isRecordFault(error: unknown): boolean;
  /** Commits `record` as a dead letter for `error`. */
  isolate(record: R, error: unknown): Promise<void>;
  /** Told before each split, for logging. */
  onSplit?(part: readonly R[], error: unknown): void;
}

/** Commits `records` in order, halving on record faults until the failing records are isolated. */
export async function commitIsolating<R>(records: readonly R[], steps: IsolationSteps<R>): Promise<void> {
  if (records.length === 0) return;
  try {
    await steps.attempt(records);
  } catch (error) {
    if (!steps.isRecordFault(error)) throw error;
    if (records.length === 1) {
      await steps.isolate(records[0]!, error);
      return;
    }
    steps.onSplit?.(records, error);
    const middle = Math.ceil(records.length / 2);
    // In order: the second half's commit expects the offset the first half leaves.
    await commitIsolating(records.slice(0, middle), steps);
    await commitIsolating(records.slice(middle), steps);
  }
}
