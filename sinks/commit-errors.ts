/**
 * How a failed commit reads to the runtime (see the Committer contract in
 * topology/runtime/types.ts): a fence halts the task, stale state is reloaded, a retriable error
 * is retried as is, and anything else is taken to be caused by what the batch holds, so the
 * batch is split until the record at fault is isolated and dead-lettered.
 *
 * PostgreSQL says which it is in the SQLSTATE. Data exceptions (class 22: a value out of range,
 * a bad cast) and integrity violations (class 23: a CHECK, a unique key) are the batch's. Some
 * errors come whatever the batch holds — a missing table or column, a permission, a read-only
 * or recovering server, a full disk — and splitting on them would dead-letter every record in
 * turn; they are reported retriable instead, so the partition waits (and says so in its retry
 * log lines and metrics) until an operator fixes the database.
 */
import { errorMessage, isRetriable, StreamError } from '../core/errors.ts';
import { fromDatabase, sqlState, translatePgError } from '../state/pg-errors.ts';

/** SQLSTATE classes of errors no record causes: syntax or access rule, catalog, schema, auth, unsupported feature, transaction state, object state, resources, system, internal. */
const NOT_THE_BATCH = /^(42|3D|3F|28|0A|25|55|53|58|XX)/;

/**
 * Its statements reach the sink translated (state/sql.ts); BEGIN and COMMIT of the sink's own
 * transaction do not, so what the driver raised there is translated here.
 */
export function classifyCommitError(error: unknown): unknown {
  const failure = fromDatabase(error) ? translatePgError(error) : error;
  if (isRetriable(failure)) return failure;
  const state = sqlState(failure);
  if (state === undefined || !NOT_THE_BATCH.test(state)) return failure;
  return new StreamError('SERVICE_UNAVAILABLE', `PostgreSQL refuses the commit whatever it holds (SQLSTATE ${state}): ${errorMessage(failure)}`, {
    retriable: true,
    cause: failure,
    context: { sqlState: state },
  });
}
