/**
 * The in-memory twin of a table-backed store (state/table-store.ts), for the test driver and
 * for describing a topology without a database. Same semantics: `load` gives the present keys,
 * `restore` only the rows the partition wrote (with a partition column; none without one), a
 * commit applies a change only where the row still holds its before-image (an insert only
 * where it is absent; a jsonb field compared as JSON, deep and regardless of key order) and
 * reports the rest as StaleStateError, an update-only store refuses to create, a read-only one
 * any change, and the writes remember their partition. test/integration/state/store-conformance.test.ts
 * runs the same cases against both.
 *
 * A store declared without a table keeps any value, creates rows, and restores everything it
 * holds to every task, as a local store would.
 */
import { isDeepStrictEqual } from 'node:util';
import type { StoreChange } from '../../core/batch.ts';
import { planWrites, type StoreTable, sameStoredValue, staleStateError, storedValue } from '../../core/store-table.ts';
import type { TopicPartition } from '../../kafka/port.ts';

export interface MemoryStoreSpec<K, V> {
  name: string;
  cacheAcrossBatches?: boolean | undefined;
  table?: StoreTable<K, V> | undefined;
}

/** The rows of one table: stores over the same table share them, as they share the table in the database. */
export interface MemoryRows<K, V> {
  readonly values: Map<K, V>;
  /** Which partition last wrote each row (the partition column); rows written by hand have none. */
  readonly partitions: Map<K, number>;
}

export class MemoryStore<K = unknown, V = unknown> {
  readonly name: string;
  readonly cacheAcrossBatches: boolean | undefined;
  readonly table: StoreTable<K, V> | undefined;
  readonly restore: ((partition: TopicPartition) => Promise<Array<[K, V]>>) | undefined;
  readonly rows: MemoryRows<K, V>;
  readonly #values: Map<K, V>;
  readonly #partitions: Map<K, number>;

  /** `rows`: those of another store over the same table (by default rows of its own). */
  constructor(spec: MemoryStoreSpec<K, V>, rows: MemoryRows<K, V> = { values: new Map(), partitions: new Map() }) {
    this.rows = rows;
    this.#values = rows.values;
    this.#partitions = rows.partitions;
    this.name = spec.name;
    this.cacheAcrossBatches = spec.cacheAcrossBatches;
    this.table = spec.table;
    if (spec.table === undefined) this.restore = async () => [...this.#values];
    else if (spec.table.partitionColumn !== undefined) {
      this.restore = async ({ partition }) => [...this.#values].filter(([key]) => this.#partitions.get(key) === partition);
    } else this.restore = undefined;
  }

  async load(keys: K[]): Promise<Map<K, V>> {
    const found = new Map<K, V>();
    for (const key of keys) if (this.#values.has(key)) found.set(key, this.#values.get(key)!);
    return found;
  }

  /** What the table holds now. */
  get contents(): ReadonlyMap<K, V> {
    return this.#values;
  }

  /** A write by someone else (initial data, an operator's edit): a new row belongs to no partition, an edited one keeps its own. */
  write(key: K, value: V): void {
    this.#values.set(key, this.#kept(value));
  }

  /**
   * Checks a batch's changes as the commit statement does and returns the write that applies
   * them, to call once every store of the batch passed. Where `guard` is false (the offset fence
   * failed) nothing is checked and the write does nothing. Throws StaleStateError naming the keys
   * whose row no longer holds what the batch read, RangeError for a key given twice, and
   * CreateRefusedError for a create in an update-only store.
   */
  prepare(changes: readonly StoreChange<K, V>[], { guard, partition }: { guard: boolean; partition: number }): () => void {
    const { updates, deletes, inserts } = planWrites(this.name, this.table?.writes ?? 'upsert', changes);
    if (!guard) return () => {};
    const stale = [
      ...[...updates, ...deletes].filter((change) => !this.#holds(change.key, change.before)),
      ...inserts.filter((change) => this.#values.has(change.key)),
    ].map((change) => change.key);
    if (stale.length > 0) throw staleStateError(this.name, this.table?.table ?? this.name, stale);
    return () => {
      for (const { key, after } of [...updates, ...inserts]) {
        this.#values.set(key, this.#kept(after));
        this.#partitions.set(key, partition);
      }
      for (const { key } of deletes) {
        this.#values.delete(key);
        this.#partitions.delete(key);
      }
    };
  }

  #holds(key: K, before: V): boolean {
    if (!this.#values.has(key)) return false;
    const current = this.#values.get(key)!;
    return this.table === undefined ? isDeepStrictEqual(current, before) : sameStoredValue(this.table, current, before);
  }

  /** As the table would keep it: only the mapped fields. */
  #kept(value: V): V {
    return this.table === undefined ? value : storedValue(this.table, value);
  }
}
