import type { StoreChange } from '../../core/batch.ts';
import type { KeyValueStore } from '../processor-api.ts';

/**
 * The committed layer of one state store: values known to be in the store's backend (restored
 * or loaded from it, plus the writes of committed batches). Only values: a key found absent is
 * not remembered, so a key the backend gains while running (a row inserted by hand) is loaded at
 * the next batch that needs it instead of being taken for absent forever.
 *
 * The tasks of one task group share it (task-group.ts): each batch reads it and, once committed,
 * writes it, one batch of the group at a time.
 */
export class StoreCache<K = unknown, V = unknown> {
  readonly #values = new Map<K, V>();
  readonly #cacheAcrossBatches: boolean;

  /** `cacheAcrossBatches` false: every commit empties the cache, so memory stays flat (a store whose keys are seldom read twice). */
  constructor(cacheAcrossBatches = true) {
    this.#cacheAcrossBatches = cacheAcrossBatches;
  }

  has(key: K): boolean {
    return this.#values.has(key);
  }

  get(key: K): V | undefined {
    return this.#values.get(key);
  }

  /** Durable values from the backend (restore or load). */
  loaded(values: Iterable<[K, V]>): void {
    for (const [key, value] of values) this.#values.set(key, value);
  }

  /** Forgets values found stale (the backend changed them): the next prefetch loads them again. */
  evict(keys: Iterable<K>): void {
    for (const key of keys) this.#values.delete(key);
  }

  /** A batch is durable: its writes (undefined: deleted) become part of the cache. */
  committed(writes: ReadonlyMap<K, V | undefined>): void {
    if (!this.#cacheAcrossBatches) {
      this.#values.clear();
      return;
    }
    for (const [key, value] of writes) {
      if (value === undefined) this.#values.delete(key);
      else this.#values.set(key, value);
    }
  }

  get size(): number {
    return this.#values.size;
  }
}

/**
 * One state store as one partition task sees it, in three layers read top-down:
 * the current record's writes, the current batch's writes, and the committed cache
 * (a StoreCache, which the tasks of a task group share).
 *
 * A record's writes join the batch only when the record succeeds, so a dead-lettered record
 * leaves no trace; the batch's writes join the cache only once the batch is committed. In the
 * two write layers a deletion is the key mapped to undefined (a value can never be undefined).
 * The write layers are the task's own: a task that stops drops them without touching the batch
 * another task of its group may be running on the same cache.
 */
export class TaskStore<K = unknown, V = unknown> implements KeyValueStore<K, V> {
  readonly name: string;
  readonly #committed: StoreCache<K, V>;
  #batch = new Map<K, V | undefined>();
  #record = new Map<K, V | undefined>();

  constructor(name: string, cache: StoreCache<K, V> = new StoreCache<K, V>()) {
    this.name = name;
    this.#committed = cache;
  }

  get(key: K): V | undefined {
    if (this.#record.has(key)) return this.#record.get(key);
    if (this.#batch.has(key)) return this.#batch.get(key);
    return this.#committed.get(key);
  }

  getAll(keys: Iterable<K>): Map<K, V> {
    const found = new Map<K, V>();
    for (const key of keys) {
      const value = this.get(key);
      if (value !== undefined) found.set(key, value);
    }
    return found;
  }

  put(key: K, value: V): void {
    if (value === undefined) throw new TypeError(`store "${this.name}": put of undefined for key ${String(key)}; use delete`);
    this.#record.set(key, value);
  }

  delete(key: K): void {
    this.#record.set(key, undefined);
  }

  /** Keys neither cached nor written in this batch: the ones a prefetch must load. */
  missing(keys: Iterable<K>): K[] {
    const missing = new Set<K>();
    for (const key of keys) if (!this.#committed.has(key) && !this.#batch.has(key)) missing.add(key);
    return [...missing];
  }

  /** Durable values from the backend (restore or load). */
  cacheLoaded(values: Iterable<[K, V]>): void {
    this.#committed.loaded(values);
  }

  /** Forgets cached values found stale (the backend changed them): the next prefetch loads them again. */
  evict(keys: Iterable<K>): void {
    this.#committed.evict(keys);
  }

  acceptRecord(): void {
    for (const [key, value] of this.#record) this.#batch.set(key, value);
    this.#record = new Map();
  }

  rejectRecord(): void {
    this.#record = new Map();
  }

  /**
   * What the batch changed, each key with the committed value it was computed from (the cache
   * does not change while a batch runs, so that is the cached value now). A key that was absent
   * and is deleted again changed nothing and is left out.
   */
  batchChanges(): StoreChange<K, V>[] {
    const changes: StoreChange<K, V>[] = [];
    for (const [key, after] of this.#batch) {
      const before = this.#committed.get(key);
      if (before === undefined && after === undefined) continue;
      changes.push({ key, before, after });
    }
    return changes;
  }

  /** The batch is durable now: its writes become part of the committed view. */
  commitBatch(): void {
    this.#committed.committed(this.#batch);
    this.#batch = new Map();
  }

  discardBatch(): void {
    this.#batch = new Map();
    this.#record = new Map();
  }

  get cachedKeys(): number {
    return this.#committed.size;
  }
}
