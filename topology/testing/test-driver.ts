/**
 * Runs a topology without a broker or a database, like Kafka Streams' TopologyTestDriver,
 * but through the real execution path: the same PartitionTask pipeline (micro-batching,
 * prefetch, dead letters, commit) with in-memory store backends, an in-memory committer and
 * virtual time. Methods that move records are async: they resolve once every closed batch
 * has committed. A repartition sink's committed outputs are appended to its internal topic,
 * in the partition their key hashes to, and run through the next sub-topology before they resolve;
 * through a loop of repartitions too, round after round until none is left, up to
 * `maxRoutingRounds` (a loop that never ends fails the call instead of hanging it). As in the
 * runtime, the tasks of one sub-topology and partition share their stores' cache and take turns
 * (runtime/task-group.ts).
 *
 * Every store runs on a fresh MemoryStore (memory-store.ts) that follows the store's table
 * declaration (stores declared over one table share its rows, as they share the table on
 * PostgreSQL), so a commit is checked as on PostgreSQL: a change applies only where the store
 * still holds the value the batch read, and a write made meanwhile with `writeStore` makes the
 * task reload and run the batch again.
 *
 * Virtual time drives the clock: `advanceTime` fires wall-clock punctuators (a task runs for
 * every partition of every source topic once time moves, records or not), and record
 * timestamps (`pipeInput`'s `timestamp`, by default the virtual now) drive stream time.
 */
import { isDeepStrictEqual } from 'node:util';
import { type Subscription, VirtualTimeScheduler } from 'rxjs';
import { FencedError, StreamError } from '../../core/errors.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import { checkOptions } from '../../core/options.ts';
import { type TopicPartition, tpKey } from '../../kafka/port.ts';
import type { SinkNode, Topology } from '../builder.ts';
import { PartitionTask } from '../runtime/partition-task.ts';
import { TaskGroups } from '../runtime/task-group.ts';
import type { CommittableBatch, DeadLetter, RuntimeEvent, SinkOutput } from '../runtime/types.ts';
import { MemoryStore } from './memory-store.ts';

export interface TopologyTestDriverOptions {
  /** Default 1: every piped record is processed and committed at once. */
  batchMaxRecords?: number;
  /** Default 30 000 virtual milliseconds. */
  commitIntervalMs?: number;
  /** Committed store contents before the first record, per store name. */
  initialState?: Record<string, Iterable<[unknown, unknown]>>;
  /** Partitions of every source topic; default 1. */
  partitions?: number;
  /**
   * Called with every batch before it is applied; throwing refuses the commit as the database
   * would (a constraint a value violates), so a test can see the failing record isolated.
   */
  checkCommit?: (batch: CommittableBatch) => void;
  /**
   * Default 10 000: how many rounds of routing repartition outputs one call may take (a round
   * routes what the commits since the last one wrote) before it fails, taking the topology for a
   * loop that never ends.
   */
  maxRoutingRounds?: number;
  logger?: Logger;
}

/** Rounds of routing one driver call has taken so far (see maxRoutingRounds). */
interface RoutingBudget {
  rounds: number;
}

export interface PipeOptions {
  /** Default: a hash of the key over `partitions` (0 for a null key). */
  partition?: number;
  /** Default: the driver's virtual now. */
  timestamp?: number;
  headers?: Record<string, string>;
}

export interface OutputRecord<T = unknown> {
  key: string | null;
  value: T;
  headers: Record<string, string>;
  partition: number;
}

export class TopologyTestDriver {
  readonly #topology: Topology;
  readonly #options: Required<Omit<TopologyTestDriverOptions, 'initialState' | 'logger' | 'checkCommit'>>;
  readonly #checkCommit: ((batch: CommittableBatch) => void) | undefined;
  readonly #logger: Logger;
  readonly #scheduler = new VirtualTimeScheduler();
  /** The "database": committed store contents and offsets. */
  readonly #stores = new Map<string, MemoryStore>();
  readonly #committedOffsets = new Map<string, bigint>();
  readonly #commits: CommittableBatch[] = [];
  readonly #unreadOutputs = new Map<string, OutputRecord<Buffer>[]>();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #nextOffsets = new Map<string, bigint>();
  readonly #tasks = new Map<string, Promise<PartitionTask>>();
  /** As in the runtime: the tasks of a sub-topology's partition share their stores' cache and take turns. */
  readonly #groups: TaskGroups;
  readonly #subscriptions: Subscription[] = [];
  readonly #failures: unknown[] = [];
  readonly #internalTopics: ReadonlySet<string>;
  /** Committed outputs of repartition sinks, not yet appended to their internal topic. */
  readonly #routing: SinkOutput[] = [];

  constructor(topology: Topology, options: TopologyTestDriverOptions = {}) {
    checkOptions('TopologyTestDriver', options, {
      batchMaxRecords: 'positive-integer',
      commitIntervalMs: 'positive-integer',
      partitions: 'positive-integer',
      maxRoutingRounds: 'positive-integer',
      checkCommit: 'function',
      logger: 'object',
    });
    this.#options = {
      batchMaxRecords: options.batchMaxRecords ?? 1,
      commitIntervalMs: options.commitIntervalMs ?? 30_000,
      partitions: options.partitions ?? 1,
      maxRoutingRounds: options.maxRoutingRounds ?? 10_000,
    };
    this.#logger = options.logger ?? silentLogger;
    this.#checkCommit = options.checkCommit;
    const tables = new Map<string, MemoryStore>();
    for (const store of topology.stores) {
      const sharing = store.table === undefined ? undefined : tables.get(store.table.table);
      if (sharing !== undefined && !isDeepStrictEqual(sharing.table, store.table)) {
        throw new StreamError('TOPOLOGY_INVALID', `stores "${sharing.name}" and "${store.name}" map table "${store.table!.table}" differently; the test driver shares a table only between stores that map it alike`);
      }
      // Stores over one table share its rows, as on PostgreSQL: what one writes, the other reads.
      const memory = new MemoryStore({ name: store.name, cacheAcrossBatches: store.cacheAcrossBatches, table: store.table }, sharing?.rows);
      if (store.table !== undefined && sharing === undefined) tables.set(store.table.table, memory);
      for (const [key, value] of options.initialState?.[store.name] ?? []) memory.write(key, value);
      this.#stores.set(store.name, memory);
    }
    for (const name of Object.keys(options.initialState ?? {})) {
      if (!this.#stores.has(name)) throw new StreamError('TOPOLOGY_INVALID', `initialState names unknown store "${name}"`);
    }
    // Same graph, stores backed by memory instead of PostgreSQL.
    this.#topology = { ...topology, stores: [...this.#stores.values()] };
    this.#groups = new TaskGroups(this.#topology);
    this.#internalTopics = new Set(topology.repartitions.map((repartition) => repartition.topic));
  }

  /** Virtual now, epoch milliseconds (starts at 0). */
  get now(): number {
    return this.#scheduler.now();
  }

  /** Sends one record to a source topic; `value` is encoded with the source's codec unless it is a Buffer already. */
  async pipeInput(topic: string, key: string | null, value: unknown, options: PipeOptions = {}): Promise<void> {
    const source = this.#topology.sourceByTopic.get(topic);
    if (source === undefined) throw new StreamError('TOPOLOGY_INVALID', `no source reads topic "${topic}"`);
    const partitions = this.#partitionsOf(topic);
    const partition = options.partition ?? partitionOf(key, partitions);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new RangeError(`partition ${partition} is outside 0..${partitions - 1}`);
    }
    const bytes = Buffer.isBuffer(value) ? value : value === null || value === undefined ? null : source.codec.encode(value);
    await this.#append({ topic, partition }, key, bytes, options.headers ?? {}, options.timestamp ?? this.now);
    await this.#settle();
  }

  /** Appends a record to a source topic's partition and hands it to that partition's task. */
  async #append(tp: TopicPartition, key: string | null, value: Buffer | null, headers: Record<string, string>, timestamp: number): Promise<void> {
    const offset = this.#nextOffsets.get(tpKey(tp)) ?? 0n;
    this.#nextOffsets.set(tpKey(tp), offset + 1n);
    const task = await this.#taskFor(tp);
    task.push([{ ...tp, offset, key: key === null ? null : Buffer.from(key, 'utf8'), value, headers, timestamp }]);
  }

  /** An internal topic has its repartition's partition count, or the driver's when it names none. */
  #partitionsOf(topic: string): number {
    return this.#topology.repartitions.find((repartition) => repartition.topic === topic)?.partitions ?? this.#options.partitions;
  }

  /**
   * Moves virtual time on: batches open longer than commitIntervalMs close and commit, and
   * wall-clock punctuators fire, on every partition of every source topic (as in Kafka Streams'
   * driver, where every task exists from the start), whether records reached it or not.
   */
  async advanceTime(ms: number): Promise<void> {
    await Promise.all(
      [...this.#topology.sourceByTopic.keys()].flatMap((topic) => Array.from({ length: this.#partitionsOf(topic) }, (_, partition) => this.#taskFor({ topic, partition }))),
    );
    const target = this.#scheduler.now() + ms;
    this.#scheduler.maxFrames = target;
    this.#scheduler.flush();
    this.#scheduler.frame = target;
    await this.#settle();
  }

  /** Closes every open batch now and waits for the commits, downstream of repartitions too (and round their loops). */
  async flush(): Promise<void> {
    const budget: RoutingBudget = { rounds: 0 };
    do {
      for (const task of await Promise.all(this.#tasks.values())) task.flush();
    } while ((await this.#settle(budget)) > 0);
  }

  /** Committed records of a sink topic not read before, decoded with their sink's codec. */
  readOutput<T = unknown>(topic: string): OutputRecord<T>[] {
    if (this.#internalTopics.has(topic)) throw new StreamError('TOPOLOGY_INVALID', `topic "${topic}" is internal: its records go on to "${this.#topology.sourceByTopic.get(topic)!.name}"`);
    const sinks = this.#topology.nodes.filter((node): node is SinkNode => node.kind === 'sink' && node.topic === topic);
    if (sinks.length === 0) throw new StreamError('TOPOLOGY_INVALID', `no sink writes topic "${topic}"`);
    const unread = this.#unreadOutputs.get(topic) ?? [];
    this.#unreadOutputs.set(topic, []);
    return unread.map((output) => ({ ...output, value: sinks[0]!.codec.decode(output.value) as T }));
  }

  /** Every committed dead letter so far, in commit order. */
  deadLetters(): DeadLetter[] {
    return [...this.#deadLetters];
  }

  /** Every committed batch so far, in commit order. */
  commits(): CommittableBatch[] {
    return [...this.#commits];
  }

  /** The committed contents of a store (what the database would hold). */
  getStateStore<K = unknown, V = unknown>(name: string): ReadonlyMap<K, V> {
    return this.#store(name).contents as ReadonlyMap<K, V>;
  }

  /**
   * Writes a store's backend directly, as another writer would (an upstream service storing
   * an entry, an operator's hand edit). A task sees it when it next loads the key: at once for a
   * store cached for one batch only; for one cached across batches, when its next commit that
   * changes the key finds it stale and the batch runs again on the reloaded value.
   */
  writeStore(name: string, key: unknown, value: unknown): void {
    this.#store(name).write(key, value);
  }

  /** The next offset the "database" holds for a partition (undefined before its first commit). */
  committedOffset(topic: string, partition = 0): bigint | undefined {
    return this.#committedOffsets.get(tpKey({ topic, partition }));
  }

  async close(): Promise<void> {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    for (const task of await Promise.all(this.#tasks.values())) await task.stop();
    this.#tasks.clear();
  }

  #taskFor(tp: TopicPartition): Promise<PartitionTask> {
    const key = tpKey(tp);
    let task = this.#tasks.get(key);
    if (task === undefined) {
      task = PartitionTask.create({
        topology: this.#topology,
        claim: { ...tp, nextOffset: this.#committedOffsets.get(key) ?? 0n, epoch: 1 },
        committer: { commit: async (batch) => this.#commit(batch) },
        batchMaxRecords: this.#options.batchMaxRecords,
        commitIntervalMs: this.#options.commitIntervalMs,
        scheduler: this.#scheduler,
        logger: this.#logger,
        // A stale commit (see writeStore) reloads and runs again, as would a retriable error of
        // checkCommit; twice at most and without delay, so a failure reaches the test at once.
        retry: { maxAttempts: 3, initialDelayMs: 0, maxDelayMs: 0 },
        groups: this.#groups,
        onEvent: (event) => this.#onEvent(event),
      }).then((created) => {
        this.#subscriptions.push(created.committed$.subscribe());
        return created;
      });
      this.#tasks.set(key, task);
    }
    return task;
  }

  #commit(batch: CommittableBatch): void {
    const key = tpKey(batch);
    const stored = this.#committedOffsets.get(key) ?? 0n;
    if (stored !== batch.expectedNextOffset) {
      throw new FencedError(batch.topic, batch.partition, `expected offset ${batch.expectedNextOffset}, store holds ${stored}`);
    }
    this.#checkCommit?.(batch);
    // Every store checked before any is written: the commit applies all of the batch or none of it.
    const writes = [...batch.storeChanges].map(([store, changes]) => this.#store(store).prepare(changes, { guard: true, partition: batch.partition }));
    for (const write of writes) write();
    for (const output of batch.outputs) {
      if (this.#internalTopics.has(output.topic)) {
        this.#routing.push(output);
        continue;
      }
      const list = this.#unreadOutputs.get(output.topic) ?? [];
      list.push({ key: output.key, value: output.value, headers: output.headers, partition: batch.partition });
      this.#unreadOutputs.set(output.topic, list);
    }
    this.#deadLetters.push(...batch.deadLetters);
    this.#committedOffsets.set(key, batch.nextOffset);
    this.#commits.push(batch);
  }

  #onEvent(event: RuntimeEvent): void {
    if (event.type === 'partition-failed') this.#failures.push(event.error);
  }

  /**
   * Waits until every task is idle, routing committed repartition outputs into their internal
   * topic's partition (by key, as a producer would) until none is left; then surfaces a task
   * failure as the caller's error. Returns how many records it routed. Throws once the call's
   * rounds of routing pass maxRoutingRounds.
   */
  async #settle(budget: RoutingBudget = { rounds: 0 }): Promise<number> {
    let routed = 0;
    for (;;) {
      for (const task of await Promise.all(this.#tasks.values())) await task.whenIdle();
      const outputs = this.#routing.splice(0);
      if (outputs.length === 0) break;
      if (++budget.rounds > this.#options.maxRoutingRounds) {
        const topics = [...new Set(outputs.map((output) => output.topic))];
        throw new StreamError(
          'TOPOLOGY_INVALID',
          `repartition outputs still coming after ${this.#options.maxRoutingRounds} rounds of routing (to ${topics.join(', ')}): a loop of repartitions that never ends? ` +
            'Its processors must stop forwarding at some point (or raise maxRoutingRounds)',
          { context: { rounds: this.#options.maxRoutingRounds, topics } },
        );
      }
      for (const output of outputs) {
        const partition = partitionOf(output.key, this.#partitionsOf(output.topic));
        await this.#append({ topic: output.topic, partition }, output.key, output.value, output.headers, this.now);
      }
      routed += outputs.length;
    }
    const failure = this.#failures.shift();
    if (failure !== undefined) throw failure;
    return routed;
  }

  #store(name: string): MemoryStore {
    const store = this.#stores.get(name);
    if (store === undefined) throw new StreamError('TOPOLOGY_INVALID', `no state store "${name}"`);
    return store;
  }

}

/** A stable spread of keys over partitions (not Kafka's murmur2: tests pin partitions explicitly when it matters). */
function partitionOf(key: string | null, partitions: number): number {
  if (key === null || partitions === 1) return 0;
  let hash = 0;
  for (const char of key) hash = (Math.imul(hash, 31) + char.codePointAt(0)!) | 0;
  return Math.abs(hash) % partitions;
}
