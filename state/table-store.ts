/**
 * A state store kept in a PostgreSQL table, as its TableStoreSpec declares (core/store-table.ts):
 * `load` and `restore` read rows, and `writeStatement` turns a batch's changes into CTEs of the
 * transactional sink's one commit statement. Set-based whatever the batch size: one array bind
 * parameter per column, never a statement per key. It knows no table by name.
 *
 * The optimistic check is a compare-and-set on the before-image: an update or a delete applies
 * only where the row still holds exactly the values the batch read (IS NOT DISTINCT FROM over
 * every value column; on a jsonb column that compares JSON values, not their text), an insert
 * only where the row is still absent. Anything else (an operator restocked by hand, a row
 * appeared or went) is reported as StaleStateError with the keys, and the task reloads them and
 * runs the batch again: a hand edit is seen, never overwritten.
 *
 * Why compare the values, not a revision column kept by a trigger: the values are what an
 * operator edits by hand, and all the batch decided on. A batch that read the values the row
 * still holds decided right, whatever else happened to the row (a touched timestamp); an edit
 * that leaves them as they were changes no decision, so it need not be seen. No trigger, and
 * nothing extra carried through the processor: the before-image is the value it read. A CHECK on
 * the table (stock never negative) still refuses a value it does not allow, as the batch's fault.
 */
import type { Sequelize } from 'sequelize';
import type { StoreChange } from '../core/batch.ts';
import { type Column, type ColumnType, planWrites, type StoreTable, staleStateError, type TableStoreSpec } from '../core/store-table.ts';
import { type BindParams, selectRows, toSafeInteger } from './sql.ts';

/** A store's part of the commit statement. */
export interface StoreWriteStatement {
  ctes: string[];
  bind: BindParams;
  /** An SQL expression the statement must select; its value goes to `check`. */
  result: string;
  /** Throws StaleStateError when a change was not applied: the transaction must roll back. */
  check(result: unknown): void;
}

export interface StoreWriteContext {
  /** An SQL condition (the offset fence passed): nothing is locked or written where it does not hold. */
  guard: string;
  /** The batch's partition, written to the partition column. */
  partition: number;
}

/** What the transactional sink needs of a store: its part of the commit statement. */
export interface StoreWriter {
  readonly name: string;
  /** Starts every CTE and bind parameter name of its statement; unique per store. */
  readonly prefix: string;
  writeStatement(changes: readonly StoreChange[], context: StoreWriteContext): StoreWriteStatement;
}

export interface TableStore<K, V> extends StoreWriter {
  readonly name: string;
  readonly cacheAcrossBatches: boolean | undefined;
  readonly table: StoreTable<K, V>;
  /** Only with a partition column: the rows the partition wrote. */
  readonly restore: ((partition: { partition: number }) => Promise<Array<[K, V]>>) | undefined;
  /** The present keys' values; an absent key is left out. */
  load(keys: K[]): Promise<Map<K, V>>;
  /**
   * The batch's changes as CTEs, named after the store (`prefix`: its name as an SQL word).
   * Throws RangeError for a key given twice, CreateRefusedError for a create in an update-only
   * store and TypeError for any change of a read-only one (`writes: 'none'`), whose statement
   * has no CTE at all.
   */
  writeStatement(changes: readonly StoreChange<K, V>[], context: StoreWriteContext): StoreWriteStatement;
}

const SQL_TYPES: Record<ColumnType, string> = { integer: 'int', bigint: 'bigint', text: 'text', uuid: 'uuid', jsonb: 'jsonb' };

/** A quoted identifier: a column named like a keyword (`partition`) needs it. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function readColumn(column: { column: string; type: ColumnType }, value: unknown): unknown {
  return column.type === 'bigint' ? toSafeInteger(value as string, column.column) : value;
}

/**
 * A value as its array bind parameter takes it. A jsonb value goes as its JSON text: given as it
 * is, the driver would read an array value as a nested SQL array. Undefined and null are NULL.
 */
function bindValue(type: ColumnType, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return type === 'jsonb' ? JSON.stringify(value) : value;
}

export function tableStore<K, V>(sequelize: Sequelize, spec: TableStoreSpec<K, V>): TableStore<K, V> {
  const { table } = spec;
  const fields = Object.entries(table.value) as Array<[string, Column]>;
  assertDistinctColumns(spec);
  const prefix = spec.name.replace(/\W/g, '_').replace(/^(?=\d)/, 's');
  const from = quoted(table.table);
  const key = quoted(table.key.column);
  const keyType = SQL_TYPES[table.key.type];
  const select = `SELECT ${key} AS k${fields.map(([, column], i) => `, ${quoted(column.column)} AS v${i}`).join('')} FROM ${from}`;

  const rowOf = (row: Record<string, unknown>): [K, V] => {
    const value: Record<string, unknown> = {};
    fields.forEach(([field, column], i) => {
      const stored = row[`v${i}`];
      if (stored !== null && stored !== undefined) value[field] = readColumn(column, stored);
    });
    return [readColumn(table.key, row.k) as K, value as V];
  };

  const partitionColumn = table.partitionColumn;
  return {
    name: spec.name,
    cacheAcrossBatches: spec.cacheAcrossBatches,
    table,
    prefix,
    restore:
      partitionColumn === undefined
        ? undefined
        : async ({ partition }) =>
            (await selectRows<Record<string, unknown>>(sequelize, `${select} WHERE ${quoted(partitionColumn)} = $partition::int ORDER BY ${key}`, { partition })).map(rowOf),
    async load(keys) {
      if (keys.length === 0) return new Map();
      const rows = await selectRows<Record<string, unknown>>(sequelize, `${select} WHERE ${key} = ANY($keys::${keyType}[])`, { keys: [...new Set(keys)] });
      return new Map(rows.map(rowOf));
    },
    writeStatement: (changes, context) => writeStatement(spec, prefix, fields, changes, context),
  };
}

function writeStatement<K, V>(
  spec: TableStoreSpec<K, V>,
  prefix: string,
  fields: Array<[string, Column]>,
  changes: readonly StoreChange<K, V>[],
  { guard, partition }: StoreWriteContext,
): StoreWriteStatement {
  const { table } = spec;
  const { updates, deletes, inserts } = planWrites(spec.name, table.writes, changes);
  // A read-only store (its table may be a view) is never part of the commit statement.
  if (table.writes === 'none') return { ctes: [], bind: {}, result: "'[]'::json", check: () => {} };
  const all = [...updates, ...deletes, ...inserts];
  const bind: BindParams = {};
  const array = (name: string, type: ColumnType, values: unknown[]): string => {
    bind[`${prefix}_${name}`] = values.map((value) => bindValue(type, value));
    return `$${prefix}_${name}::${SQL_TYPES[type]}[]`;
  };
  const fieldOf = (value: V, field: string): unknown => (value as Record<string, unknown>)[field] ?? null;
  const from = quoted(table.table);
  const key = quoted(table.key.column);
  const columns = fields.map(([, column]) => quoted(column.column));
  // Columns every write sets besides the value: the batch's partition, and the touched ones.
  const extra: Array<[string, string]> = [
    ...(table.partitionColumn === undefined ? [] : [[quoted(table.partitionColumn), `$${prefix}_partition::int`] as [string, string]]),
    ...Object.entries(table.touch ?? {}).map(([column, expression]): [string, string] => [quoted(column), expression]),
  ];
  if (table.partitionColumn !== undefined) bind[`${prefix}_partition`] = partition;
  const unchanged = (alias: string) => columns.map((column, i) => `t.${column} IS NOT DISTINCT FROM ${alias}.b${i}`).join(' AND ');

  // Every changed key with its position in `all`: the result names the ones not applied by position,
  // so the keys reported stale are the batch's own, whatever form the database gives them back in.
  const ctes = [`${prefix}_change AS (SELECT * FROM unnest(${array('keys', table.key.type, all.map((change) => change.key))}) WITH ORDINALITY AS c(k, i))`];
  const written: string[] = [];
  // No separate pass locks the rows in key order first: every batch writing a partition's keys
  // has taken that partition's offset row before any of them (the fence, which `guard` reads,
  // runs first), so two batches never race for the same rows. Only a hand edit touching several
  // rows can deadlock with a batch; PostgreSQL then aborts one of them, and a batch's deadlock is
  // a retriable TRANSACTION_CONFLICT: it runs again. (A key-ordered lock pass cost a third of the
  // write, and joined against it the planner, blind to the unnest'ed arrays' size, chose a
  // nested loop: 390 ms for a batch of 1,250 order decisions.)
  if (updates.length > 0) {
    const before = fields.map(([field, column], i) => `${array(`before${i}`, column.type, updates.map((change) => fieldOf(change.before, field)))}`);
    const after = fields.map(([field, column], i) => `${array(`after${i}`, column.type, updates.map((change) => fieldOf(change.after, field)))}`);
    const names = ['k', ...fields.map((_, i) => `b${i}`), ...fields.map((_, i) => `a${i}`)];
    ctes.push(
      `${prefix}_update AS (SELECT * FROM unnest(${[array('update_keys', table.key.type, updates.map((change) => change.key)), ...before, ...after].join(', ')}) AS u(${names.join(', ')}))`,
      `${prefix}_updated AS (
        UPDATE ${from} AS t SET ${[...columns.map((column, i) => `${column} = u.a${i}`), ...extra.map(([column, expression]) => `${column} = ${expression}`)].join(', ')}
        FROM ${prefix}_update u
        WHERE t.${key} = u.k AND ${unchanged('u')} AND ${guard}
        RETURNING t.${key} AS k)`,
    );
    written.push(`SELECT k FROM ${prefix}_updated`);
  }
  if (deletes.length > 0) {
    const before = fields.map(([field, column], i) => array(`deleted${i}`, column.type, deletes.map((change) => fieldOf(change.before, field))));
    ctes.push(
      `${prefix}_delete AS (SELECT * FROM unnest(${[array('delete_keys', table.key.type, deletes.map((change) => change.key)), ...before].join(', ')}) AS d(${['k', ...fields.map((_, i) => `b${i}`)].join(', ')}))`,
      `${prefix}_deleted AS (
        DELETE FROM ${from} AS t USING ${prefix}_delete d
        WHERE t.${key} = d.k AND ${unchanged('d')} AND ${guard}
        RETURNING t.${key} AS k)`,
    );
    written.push(`SELECT k FROM ${prefix}_deleted`);
  }
  if (inserts.length > 0) {
    const after = fields.map(([field, column], i) => array(`inserted${i}`, column.type, inserts.map((change) => fieldOf(change.after, field))));
    // Separate UPDATE and INSERT, not one INSERT ... ON CONFLICT DO UPDATE: the two checks
    // differ. An update must find the row as the batch read it, and must not bring back a row
    // deleted meanwhile (the upsert would re-create it, silently undoing the deletion); an insert
    // must find no row. Both see the statement's snapshot: a row another transaction commits
    // meanwhile is neither updated nor inserted (ON CONFLICT skips it), and so reported as stale.
    ctes.push(
      `${prefix}_insert AS (SELECT * FROM unnest(${[array('insert_keys', table.key.type, inserts.map((change) => change.key)), ...after].join(', ')}) AS n(${['k', ...fields.map((_, i) => `a${i}`)].join(', ')}))`,
      `${prefix}_inserted AS (
        INSERT INTO ${from} (${[key, ...columns, ...extra.map(([column]) => column)].join(', ')})
        SELECT ${['n.k', ...fields.map((_, i) => `n.a${i}`), ...extra.map(([, expression]) => expression)].join(', ')} FROM ${prefix}_insert n
        WHERE ${guard} AND NOT EXISTS (SELECT FROM ${from} t WHERE t.${key} = n.k)
        ORDER BY n.k
        ON CONFLICT (${key}) DO NOTHING
        RETURNING ${key} AS k)`,
    );
    written.push(`SELECT k FROM ${prefix}_inserted`);
  }
  const applied = written.length > 0 ? `NOT EXISTS (SELECT FROM (${written.join(' UNION ALL ')}) AS w WHERE w.k = c.k)` : 'true';
  return {
    ctes,
    bind,
    result: `(SELECT coalesce(json_agg(c.i ORDER BY c.i), '[]'::json) FROM ${prefix}_change c WHERE ${applied})`,
    check(result) {
      const unapplied = (result as number[]).map((position) => all[position - 1]!.key);
      if (unapplied.length > 0) throw staleStateError(spec.name, table.table, unapplied);
    },
  };
}

/** A column set twice by one write would be refused by PostgreSQL at the first commit; refuse the declaration instead. */
function assertDistinctColumns(spec: TableStoreSpec<unknown, unknown>): void {
  const { table } = spec;
  const columns = [table.key.column, ...Object.values<Column>(table.value).map((column) => column.column), ...(table.partitionColumn ? [table.partitionColumn] : []), ...Object.keys(table.touch ?? {})];
  const repeated = columns.filter((column, i) => columns.indexOf(column) !== i);
  if (repeated.length > 0) throw new TypeError(`store "${spec.name}": column ${repeated.join(', ')} of ${table.table} is mapped twice`);
}
