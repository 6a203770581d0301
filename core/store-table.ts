/**
 * How a state store maps onto a database table: declared by the pipeline next to its topology,
 * kept by state/table-store.ts on PostgreSQL and by its in-memory twin (topology/testing/
 * memory-store.ts) with the same semantics. What both backends share lives here: the
 * declaration, how a batch's changes divide into updates, inserts and deletes, and the errors.
 */
import { isDeepStrictEqual } from 'node:util';
import type { StoreChange } from './batch.ts';
import { StaleStateError, StreamError } from './errors.ts';

/**
 * integer and bigint read as numbers (a bigint beyond 2^53 is refused), text and uuid as strings;
 * jsonb keeps an object or an array as JSON (written JSON.stringify'd, read parsed) and compares
 * it as JSON: key order and fields left undefined make no difference.
 */
export type ColumnType = 'integer' | 'bigint' | 'text' | 'uuid' | 'jsonb';

/** The column types a JS value of type T can be kept in (undefined, as in an optional field, adds none). */
export type ColumnTypeOf<T> = T extends number ? 'integer' | 'bigint' : T extends string ? 'text' | 'uuid' : T extends object ? 'jsonb' : never;

export interface Column<T = unknown> {
  column: string;
  type: ColumnTypeOf<T>;
}

/** A key column: compared by value in the task's cache, so never an object (jsonb). */
export interface KeyColumn<K = unknown> {
  column: string;
  type: Exclude<ColumnTypeOf<K>, 'jsonb'>;
}

/** Every field of V, of every member when V is a union (keyof a union gives only the shared ones). */
export type FieldOf<V> = V extends unknown ? keyof V & string : never;

/** The type of field F over every member of V that has it. */
type FieldType<V, F extends string> = V extends unknown ? (F extends keyof V ? V[F] : never) : never;

export interface StoreTable<K, V> {
  table: string;
  key: KeyColumn<K>;
  /**
   * A column per field of the value. A NULL column reads as a field left out; a field that is
   * undefined (or null) writes NULL. The value is exactly these fields: nothing else is kept.
   */
  value: { [F in FieldOf<V>]: Column<FieldType<V, F>> };
  /**
   * The column the writes set to the batch's partition, so a task restores only the rows its
   * partition wrote (`WHERE partition = $p`). A row no task wrote (NULL) is loaded when first
   * needed. Without it there is no restore: every key is loaded when first needed.
   */
  partitionColumn?: string;
  /**
   * `upsert`: the store creates rows; `update`: rows are created by someone else, the store only
   * changes or deletes them; `none`: the store is only read (its table may be a view, e.g. an
   * aggregate over a join), and a batch that changes it is a programmer error (see planWrites).
   */
  writes: 'upsert' | 'update' | 'none';
  /** Extra columns every write sets, to SQL expressions (e.g. `{ updated_at: 'now()' }`). */
  touch?: Readonly<Record<string, string>>;
}

/** A store declared onto a table. */
export interface TableStoreSpec<K, V> {
  name: string;
  /** As for every store: false keeps the cache for one batch only (see StateStoreSpec). */
  cacheAcrossBatches?: boolean;
  table: StoreTable<K, V>;
}

/** A batch's changes by what each asks of its row: held the before-image (update, delete), or absent (insert). */
export interface PlannedWrites<K, V> {
  updates: Array<StoreChange<K, V> & { before: V; after: V }>;
  deletes: Array<StoreChange<K, V> & { before: V }>;
  inserts: Array<StoreChange<K, V> & { after: V }>;
}

/**
 * A store that only updates (`writes: 'update'`) was given a key to create. The batch cannot be
 * committed as it is; like a constraint the database refuses, it is taken as the batch's fault
 * and the record that wrote the key ends up dead-lettered.
 */
export class CreateRefusedError extends StreamError {
  constructor(store: string, keys: readonly unknown[]) {
    super('RECORD_INVALID', `store "${store}" only updates existing rows, but the batch creates ${shownKeys(keys)}`, { context: { store, keys } });
  }
}

/**
 * Splits changes for the write; throws on a key given twice (RangeError), on a create an
 * update-only store cannot make (CreateRefusedError), and on any change of a read-only store
 * (TypeError: the processor that put or deleted is wrong, whatever the record held).
 */
export function planWrites<K, V>(store: string, writes: StoreTable<K, V>['writes'], changes: readonly StoreChange<K, V>[]): PlannedWrites<K, V> {
  if (writes === 'none' && changes.length > 0) {
    throw new TypeError(`store "${store}" is read-only (writes: 'none'), but the batch changes ${shownKeys(changes.map((change) => change.key))}: its processors may only read it`);
  }
  const seen = new Set<K>();
  const planned: PlannedWrites<K, V> = { updates: [], deletes: [], inserts: [] };
  for (const change of changes) {
    if (seen.has(change.key)) throw new RangeError(`store "${store}": key ${String(change.key)} changes twice in one batch; give each key once, with its last value`);
    seen.add(change.key);
    const { key, before, after } = change;
    if (before !== undefined && after !== undefined) planned.updates.push({ key, before, after });
    else if (before !== undefined) planned.deletes.push({ key, before, after: undefined });
    else if (after !== undefined) planned.inserts.push({ key, before: undefined, after });
  }
  if (writes === 'update' && planned.inserts.length > 0) throw new CreateRefusedError(store, planned.inserts.map((change) => change.key));
  return planned;
}

/** The changes of these keys were not applied: the backend no longer holds what the batch read. */
export function staleStateError(store: string, table: string, keys: readonly unknown[]): StaleStateError {
  return new StaleStateError(store, keys, `store "${store}": ${shownKeys(keys)} changed in ${table} since the batch read it; reload and run the batch again`);
}

/** The value as the table keeps it: only the mapped fields, without the undefined and null ones, a jsonb field as its JSON. */
export function storedValue<V>(table: StoreTable<unknown, V>, value: V): V {
  const stored: Record<string, unknown> = {};
  for (const [field, column] of Object.entries<Column>(table.value)) {
    const fieldValue = (value as Record<string, unknown>)[field];
    if (fieldValue !== undefined && fieldValue !== null) stored[field] = column.type === 'jsonb' ? asJson(fieldValue) : fieldValue;
  }
  return stored as V;
}

/**
 * Whether two values are the same row content (IS NOT DISTINCT FROM over every mapped column):
 * a jsonb field by its JSON, as PostgreSQL compares jsonb, every other by ===.
 */
export function sameStoredValue<V>(table: StoreTable<unknown, V>, a: V, b: V): boolean {
  return Object.entries<Column>(table.value).every(([field, column]) => {
    const [left, right] = [(a as Record<string, unknown>)[field] ?? null, (b as Record<string, unknown>)[field] ?? null];
    return column.type === 'jsonb' && left !== null && right !== null ? isDeepStrictEqual(asJson(left), asJson(right)) : left === right;
  });
}

/** A value as JSON keeps it: what a jsonb column gives back (fields left undefined dropped, a copy). */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function shownKeys(keys: readonly unknown[]): string {
  const shown = keys.slice(0, 10).map(String).join(', ') + (keys.length > 10 ? ` and ${keys.length - 10} more` : '');
  return `${keys.length === 1 ? 'key' : `${keys.length} keys`} ${shown}`;
}
