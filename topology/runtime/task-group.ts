/**
 * Task groups: the tasks of one sub-topology (topology/subtopologies.ts) with the same
 * partition number that run in this process, e.g. `a[3]` and `…-by-key-repartition[3]` when
 * both topics feed processors sharing a store. Kafka Streams makes them one StreamTask, which
 * picks its next record among its partitions (PartitionGroup) and owns one state manager. Here
 * each topic-partition keeps its own task (offsets, fence, claim, commit, stats), and the group
 * gives them what one task would have:
 *
 * - **One committed cache per store** (a StoreCache its tasks' TaskStores share), so what one
 *   task commits the other reads at its next batch, instead of finding its own copy stale at
 *   commit and running the batch again. A store is restored once, by the first task of the group
 *   that uses it, not again per task.
 * - **Turns** (turns.ts): one batch of the group runs at a time, from its prefetch to its commit
 *   or discard, reloads after stale state and splits included, so a batch is computed on a cache
 *   nobody changes under it. Fairness: turns go in the order they were asked for, and a task asks
 *   once per batch, so with a backlog on both sides the tasks alternate batch by batch.
 *
 * A task joins when it starts and leaves when it drains, stops, halts, is fenced or fails to
 * start: it gives up the turn and its waits at once (a batch still committing when its task stopped
 * cannot change the cache any more, so the next task may start meanwhile). The group goes with
 * its last task, and a new one starts from a fresh cache.
 *
 * Nothing relies on the group being complete. If another process runs one of its partitions
 * (the assignor placed them apart), both processes still run; their batches may then conflict
 * in the database, which the commit's compare-and-set catches as before (StaleStateError: reload
 * and run again). Correctness never depends on the group; only the conflicts it saves do.
 */
import type { StateStoreSpec, Topology } from '../builder.ts';
import { subtopologiesOf } from '../subtopologies.ts';
import { StoreCache } from './task-store.ts';
import { TurnAbandonedError, Turns } from './turns.ts';

/** A store as the group keeps it: the shared cache and whether it was restored. */
interface GroupStore {
  cache: StoreCache;
  restored: boolean;
  /** The restore in flight or done, by whichever member started it; unset again when it failed. */
  restoring: Promise<void> | undefined;
}

class TaskGroup {
  readonly members = new Set<TaskGroupMembership>();
  readonly turns = new Turns<TaskGroupMembership>();
  readonly #stores = new Map<string, GroupStore>();
  readonly #specs: ReadonlyMap<string, StateStoreSpec>;

  constructor(specs: ReadonlyMap<string, StateStoreSpec>) {
    this.#specs = specs;
  }

  store(name: string): GroupStore {
    let store = this.#stores.get(name);
    if (store === undefined) {
      store = { cache: new StoreCache(this.#specs.get(name)?.cacheAcrossBatches ?? true), restored: false, restoring: undefined };
      this.#stores.set(name, store);
    }
    return store;
  }
}

/** One task's place in its group: what it shares, and its end. */
export class TaskGroupMembership {
  readonly #group: TaskGroup;
  readonly #left: () => void;
  #active = true;

  constructor(group: TaskGroup, left: () => void) {
    this.#group = group;
    this.#left = left;
  }

  /** The committed cache of a store, shared by the group's tasks. */
  cache(store: string): StoreCache {
    return this.#group.store(store).cache;
  }

  /**
   * Restores a store into the shared cache unless the group did already: the first member to
   * ask runs `restore`, the others wait for it. If that member's restore fails (it stopped, say),
   * a member still waiting runs its own; the caller's own failure is thrown. Returns whether
   * this member restored it.
   */
  async restore(store: string, restore: () => Promise<Iterable<[unknown, unknown]>>): Promise<boolean> {
    const entry = this.#group.store(store);
    while (!entry.restored) {
      if (entry.restoring === undefined) {
        const restoring = restore().then(
          (values) => {
            entry.cache.loaded(values);
            entry.restored = true;
          },
          (error: unknown) => {
            entry.restoring = undefined;
            throw error;
          },
        );
        entry.restoring = restoring;
        await restoring;
        return true;
      }
      await entry.restoring.catch(() => {});
    }
    return false;
  }

  /** Resolves once this task holds the group's turn; rejects (TurnAbandonedError) when `signal` aborts or the task left. */
  takeTurn(signal: AbortSignal): Promise<void> {
    if (!this.#active) return Promise.reject(new TurnAbandonedError('the member left its group'));
    return this.#group.turns.take(this, signal);
  }

  /** Ends this task's turn, if it holds it. */
  giveTurn(): void {
    this.#group.turns.give(this);
  }

  /** Leaves the group: the turn passes on, waits end, and the group goes with its last task. Idempotent. */
  leave(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#group.turns.leave(this);
    this.#left();
  }
}

/** The task groups of one process (a runtime, a test driver). */
export class TaskGroups {
  readonly #groups = new Map<string, TaskGroup>();
  /** Source topic -> its sub-topology's id. */
  readonly #subtopologyOf: ReadonlyMap<string, number>;
  readonly #specs: ReadonlyMap<string, StateStoreSpec>;

  constructor(topology: Topology) {
    this.#subtopologyOf = new Map(subtopologiesOf(topology).flatMap(({ id, sourceTopics }) => sourceTopics.map((topic) => [topic, id] as const)));
    this.#specs = new Map(topology.stores.map((spec) => [spec.name, spec]));
  }

  /** The task of `topic`'s partition joins its group (made if it is the first). */
  join(topic: string, partition: number): TaskGroupMembership {
    // A topic no source reads has no sub-topology: a group of its own (its task will not build anyway).
    const subtopology = this.#subtopologyOf.get(topic);
    const key = subtopology === undefined ? `topic ${topic}[${partition}]` : `sub-topology ${subtopology}[${partition}]`;
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = new TaskGroup(this.#specs);
      this.#groups.set(key, group);
    }
    const joined = group;
    const membership = new TaskGroupMembership(joined, () => {
      joined.members.delete(membership);
      if (joined.members.size === 0 && this.#groups.get(key) === joined) this.#groups.delete(key);
    });
    joined.members.add(membership);
    return membership;
  }
}
