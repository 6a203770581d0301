import { QueryTypes, type Sequelize, Transaction } from 'sequelize';
import { translatePgError } from './pg-errors.ts';

/**
 * Where a statement runs: a pooled connection of `Sequelize`, or the caller's `Transaction`
 * when the work must commit or roll back together with the caller's other writes.
 */
export type Executor = Sequelize | Transaction;

/** Named bind parameters (`$name` in the SQL). `undefined` is refused by Sequelize: use null. */
export type BindParams = Record<string, unknown>;

function target(executor: Executor): { sequelize: Sequelize; transaction: Transaction | undefined } {
  if (executor instanceof Transaction) {
    // Sequelize keeps the owning instance on the transaction but its typings do not declare it.
    return { sequelize: (executor as unknown as { sequelize: Sequelize }).sequelize, transaction: executor };
  }
  return { sequelize: executor, transaction: undefined };
}

/**
 * Runs a statement that returns rows (SELECT, or a write with RETURNING). Like every function
 * here, it rejects with the driver's error translated (state/pg-errors.ts).
 */
export async function selectRows<Row extends object>(executor: Executor, sql: string, bind: BindParams = {}): Promise<Row[]> {
  const { sequelize, transaction } = target(executor);
  try {
    return await sequelize.query<Row>(sql, { bind, transaction, type: QueryTypes.SELECT, raw: true });
  } catch (error) {
    throw translatePgError(error);
  }
}

/** Runs a write without RETURNING and gives the number of rows it touched. */
export async function execute(executor: Executor, sql: string, bind: BindParams = {}): Promise<number> {
  const { sequelize, transaction } = target(executor);
  let result: unknown;
  try {
    [, result] = await sequelize.query(sql, { bind, transaction, type: QueryTypes.RAW, raw: true });
  } catch (error) {
    throw translatePgError(error);
  }
  // Sequelize hands back the driver's result, except for statements starting with INSERT INTO,
  // for which it hands back the row count itself.
  if (typeof result === 'number') return result;
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}

/**
 * Runs `work` in a transaction: committed when it resolves, rolled back when it rejects. What
 * `work` throws comes out as it is (its statements are translated already, and its own errors
 * are its caller's); a failure of BEGIN, COMMIT or of getting a connection is translated.
 */
export async function inTransaction<T>(sequelize: Sequelize, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  let thrownByWork: { error: unknown } | undefined;
  try {
    return await sequelize.transaction(async (transaction) => {
      try {
        return await work(transaction);
      } catch (error) {
        thrownByWork = { error };
        throw error;
      }
    });
  } catch (error) {
    if (thrownByWork !== undefined && thrownByWork.error === error) throw error;
    throw translatePgError(error);
  }
}

/** PostgreSQL BIGINT arrives as a string; counters that stay far below 2^53 are read as numbers. */
export function toSafeInteger(value: string | number | bigint | null, column: string): number {
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw new RangeError(`${column}: ${String(value)} is not a safe integer`);
  return result;
}
