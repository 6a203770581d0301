/**
 * PostgreSQL's errors, as node-postgres and Sequelize report them, in the engine's terms: a
 * StreamError whose `retriable` says whether running the same work again may succeed, the
 * driver's error as `cause`. Nothing above state/ needs to know a SQLSTATE or how node-postgres
 * words a dropped connection.
 *
 * Translated at the boundary rather than judged later by rules registered in core, because the
 * boundary is already one place: every statement goes through state/sql.ts (selectRows,
 * execute, inTransaction), which translates what the driver rejects with; what escapes a
 * transaction opened without inTransaction (the transactional sink's) is translated by its
 * caller through `fromDatabase` (sinks/commit-errors.ts).
 *
 *  - connection loss (SQLSTATE class 08, node-postgres's code-less "Connection terminated",
 *    Sequelize's connection errors, socket errors), admin or crash shutdown, a server not
 *    accepting connections yet, too many connections: ServiceUnavailableError, retriable;
 *  - serialization failure and deadlock: TRANSACTION_CONFLICT, retriable (the transaction lost
 *    to a concurrent one and rolled back);
 *  - anything else (a constraint, a value out of range, a missing table): StatementRefusedError,
 *    not retriable, naming its SQLSTATE.
 */
import pg from 'pg';
import { BaseError, ConnectionError } from 'sequelize';
import { type ErrorContext, errorMessage, isSocketError, ServiceUnavailableError, StreamError } from '../core/errors.ts';

/** Connection exceptions, admin/crash shutdown, cannot connect now, too many connections. */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300)$/;
/** Serialization failure, deadlock detected. */
const CONFLICT_STATES = /^(40001|40P01)$/;
/** node-postgres reports a dropped connection (server restart, idle-in-transaction timeout) without a code. */
const CODELESS_CONNECTION_LOSS = /^(Connection terminated|Client has encountered a connection error)/;

/** PostgreSQL refused a statement: running it again as it is fails the same way. */
export class StatementRefusedError extends StreamError {
  readonly sqlState: string | undefined;
  constructor(message: string, sqlState: string | undefined, cause: unknown, context: ErrorContext = {}) {
    super('REQUEST_REFUSED', message, { cause, context: { ...context, ...(sqlState === undefined ? {} : { sqlState }) } });
    this.sqlState = sqlState;
  }
}

/** Whether node-postgres or Sequelize raised `error` (and it is not translated yet). */
export function fromDatabase(error: unknown): boolean {
  return error instanceof BaseError || error instanceof pg.DatabaseError;
}

/** The SQLSTATE of a PostgreSQL error: a translated one's, or the driver's through Sequelize's wrapping. */
export function sqlState(error: unknown): string | undefined {
  if (error instanceof StreamError) return typeof error.context.sqlState === 'string' ? error.context.sqlState : undefined;
  const candidate = error as { code?: unknown; parent?: { code?: unknown }; original?: { code?: unknown } } | null;
  if (candidate === null || typeof candidate !== 'object') return undefined;
  for (const code of [candidate.parent?.code, candidate.original?.code, candidate.code]) {
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The StreamError for what node-postgres or Sequelize rejected with; a StreamError passes through as is. */
export function translatePgError(error: unknown, context: ErrorContext = {}): StreamError {
  if (error instanceof StreamError) return error;
  const state = sqlState(error);
  const message = errorMessage(error);
  if (state !== undefined && CONFLICT_STATES.test(state)) {
    return new StreamError('TRANSACTION_CONFLICT', message, { retriable: true, cause: error, context: { ...context, sqlState: state } });
  }
  if (state === undefined ? isConnectionLoss(error) : UNAVAILABLE_STATES.test(state)) return new ServiceUnavailableError('PostgreSQL', message, error);
  return new StatementRefusedError(message, state, error, { ...context, ...constraintOf(error) });
}

function isConnectionLoss(error: unknown): boolean {
  // Node tries every address a name resolves to (IPv4 and IPv6 of localhost) and fails with all of them.
  if (error instanceof AggregateError) return error.errors.length > 0 && error.errors.every(isConnectionLoss);
  if (error instanceof ConnectionError) return true;
  const driver = (error as { parent?: unknown } | null)?.parent ?? error;
  return isSocketError(driver) || (driver instanceof Error && CODELESS_CONNECTION_LOSS.test(driver.message)) || (error instanceof Error && CODELESS_CONNECTION_LOSS.test(error.message));
}

/** The constraint a refused write violated, when PostgreSQL names one. */
function constraintOf(error: unknown): { constraint?: string } {
  const candidate = error as { parent?: { constraint?: unknown }; constraint?: unknown } | null;
  const constraint = candidate?.parent?.constraint ?? candidate?.constraint;
  return typeof constraint === 'string' ? { constraint } : {};
}
