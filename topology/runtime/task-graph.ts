/**
 * The part of a topology one partition task runs: the processor instances reachable from
 * the source of the task's topic (one sub-topology, or the part of it that topic feeds: a
 * repartition's sink ends the walk), their contexts, and the task's stores. It pushes one
 * record at a time depth-first through the graph (a forward calls the child at once, as in
 * Kafka Streams) and stages what the record writes, so a failing record leaves nothing behind.
 * The stores' committed caches are the task group's (task-group.ts); the staged writes are the task's.
 * Punctuators (punctuation.ts) run through the same graph and stage their writes the same way.
 */
import type { SchedulerLike } from 'rxjs';
import { errorMessage, KeyMismatchError, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { type TraceHeaders, withTraceHeaders } from '../../core/trace-context.ts';
import type { ConsumedRecord } from '../../kafka/port.ts';
import type { ProcessorNode, SinkNode, SourceNode, Topology, TopologyNode } from '../builder.ts';
import type { ForwardedRecord, KeyValueStore, Processor, ProcessorContext, RecordMetadata } from '../processor-api.ts';
import { Punctuations, type Schedule, type WallClockTick } from './punctuation.ts';
import { repartitionEventId } from './repartition-origin.ts';
import { type StoreCache, TaskStore } from './task-store.ts';
import type { SinkOutput } from './types.ts';

/** An error raised inside a node, tagged with the node so the dead letter can name it. */
export class NodeFailure extends Error {
  readonly node: string;
  override readonly cause: unknown;
  constructor(node: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'NodeFailure';
    this.node = node;
    this.cause = cause;
  }
}

/** The class name a dead letter records: an explicit `errorClass` wins over the constructor's name. */
export function errorClassOf(error: unknown): string {
  if (error instanceof Error) {
    const explicit = (error as { errorClass?: unknown }).errorClass;
    return typeof explicit === 'string' ? explicit : error.name || error.constructor.name;
  }
  return typeof error;
}

interface ProcessorInstance {
  node: ProcessorNode;
  processor: Processor<unknown, unknown>;
  context: ProcessorContext<unknown>;
}

export interface DecodedRecord {
  record: ConsumedRecord;
  value: unknown;
}

export interface TaskGraphOptions {
  partition: number;
  /** The epoch of the task's claim: part of every repartition output's position (repartition-origin.ts). */
  epoch: bigint;
  /** The task's clock: currentTimeMs() and wall-clock punctuation. */
  scheduler: SchedulerLike;
  logger: Logger;
  /** The committed cache of each store the task uses: its task group's (task-group.ts). */
  storeCache(store: string): StoreCache;
}

/** The punctuation running now, which names its repartition outputs. */
interface RunningPunctuation {
  /** Of the record that fired it (stream time), or the task's position (wall clock). */
  offset: bigint;
  /** `<type>:<schedule id>:<time>`. */
  place: string;
}

export class TaskGraph {
  readonly source: SourceNode;
  readonly stores: ReadonlyMap<string, TaskStore>;
  readonly punctuations: Punctuations;
  readonly #nodes: ReadonlyMap<string, TopologyNode>;
  readonly #processors = new Map<string, ProcessorInstance>();
  readonly #reachable: ProcessorNode[];
  readonly #topic: string;
  readonly #partition: number;
  readonly #epoch: bigint;
  readonly #scheduler: SchedulerLike;
  readonly #logger: Logger;
  /** schedule() is allowed only while init() runs. */
  #initializing = false;
  #current: RecordMetadata | undefined;
  #punctuation: RunningPunctuation | undefined;
  /** The batch's last record given to process(): what names the repartition outputs of flush(). */
  #lastProcessed: RecordMetadata | undefined;
  /** Repartition outputs of the current record (or flush) so far: the last part of their event id. */
  #repartitionOutputs = 0;
  #recordOutputs: SinkOutput[] = [];
  #batchOutputs: SinkOutput[] = [];
  /** The trace the outputs of the running record (or flush) carry on: see process(). */
  #outputTrace: Readonly<Record<string, string>> | TraceHeaders | undefined;

  constructor(topology: Topology, topic: string, options: TaskGraphOptions) {
    const source = topology.sourceByTopic.get(topic);
    if (source === undefined) throw new StreamError('TOPOLOGY_INVALID', `no source node reads topic "${topic}"`);
    this.source = source;
    this.#topic = topic;
    this.#partition = options.partition;
    this.#epoch = options.epoch;
    this.#scheduler = options.scheduler;
    this.#logger = options.logger;
    this.punctuations = new Punctuations(options.scheduler);
    this.#nodes = new Map(topology.nodes.map((node) => [node.name, node]));

    this.#reachable = this.#reachableProcessors();
    const storeNames = new Set(this.#reachable.flatMap((node) => node.stores));
    this.stores = new Map([...storeNames].map((name) => [name, new TaskStore(name, options.storeCache(name))]));
    this.#instantiate();
  }

  /**
   * Decodes with the source codec and checks the record's key against the source's `keyOf`;
   * failures carry the source node's name.
   */
  decode(record: ConsumedRecord): DecodedRecord {
    let value: unknown;
    try {
      value = this.source.codec.decode(record.value);
    } catch (error) {
      throw new NodeFailure(this.source.name, error);
    }
    if (this.source.keyOf) this.#checkKey(record, value, this.source.keyOf);
    return { record, value };
  }

  /** The processor that loads a store's keys before a batch (the first to declare it): the node a failed load is blamed on. */
  loaderOf(store: string): string {
    return this.#reachable.find((node) => node.stores.includes(store))?.name ?? this.source.name;
  }

  /** The store keys the record's processors declared, per store name. */
  prefetchKeys(decoded: DecodedRecord): Map<string, unknown[]> {
    const keys = new Map<string, unknown[]>();
    for (const child of this.source.children) {
      const instance = this.#processors.get(child);
      if (!instance?.node.prefetch) continue;
      let requested: object;
      try {
        requested = instance.node.prefetch(decoded.value);
      } catch (error) {
        throw new NodeFailure(child, error);
      }
      for (const [store, storeKeys] of Object.entries(requested) as Array<[string, unknown]>) {
        if (!instance.node.stores.includes(store)) {
          throw new NodeFailure(child, new StreamError('TOPOLOGY_INVALID', `prefetch of "${child}" names store "${store}" it does not declare`));
        }
        if (!Array.isArray(storeKeys)) {
          throw new NodeFailure(child, new TypeError(`prefetch of "${child}" must give an array of keys for store "${store}"`));
        }
        const list = keys.get(store) ?? [];
        list.push(...storeKeys);
        keys.set(store, list);
      }
    }
    return keys;
  }

  /**
   * Runs one record through the graph. On success its outputs and writes join the batch; on
   * failure they are dropped and the NodeFailure naming the failing node is thrown.
   *
   * Every output of the record carries the trace headers of `trace` (`traceparent`,
   * `tracestate`), whatever headers its processor gave it: the record's own headers when it is
   * not traced here (the header passes along), its process span's when it is. The engine owns
   * these headers on outputs, so one trace follows a record through every sub-topology.
   */
  process(decoded: DecodedRecord, trace: Readonly<Record<string, string>> | TraceHeaders = decoded.record.headers): void {
    const { record } = decoded;
    this.#current = { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp };
    this.#outputTrace = trace;
    this.#lastProcessed = this.#current;
    this.#repartitionOutputs = 0;
    try {
      const key = record.key === null ? null : record.key.toString('utf8');
      for (const child of this.source.children) this.#deliver(child, { key, value: decoded.value, headers: record.headers });
      this.#acceptStaged();
    } catch (error) {
      this.#rejectStaged();
      throw error instanceof NodeFailure ? error : new NodeFailure(this.source.name, error);
    } finally {
      this.#recordOutputs = [];
      this.#current = undefined;
      this.#outputTrace = undefined;
    }
    for (const schedule of this.punctuations.recordProcessed(record.timestamp)) {
      this.#punctuate(schedule, this.punctuations.streamTime!, record.offset);
    }
  }

  /** Runs a wall-clock punctuation fallen due (unless cancelled); `position` is the offset the task is at. */
  punctuateWallClock(tick: WallClockTick, position: bigint): void {
    const schedule = this.punctuations.scheduleOf(tick);
    if (schedule) this.#punctuate(schedule, tick.time, position);
  }

  /** A punctuator that throws is logged and what it wrote is dropped: it never fails its batch. */
  #punctuate(schedule: Schedule, time: number, offset: bigint): void {
    this.#punctuation = { offset, place: `${schedule.type}:${schedule.id}:${time}` };
    this.#repartitionOutputs = 0;
    try {
      schedule.punctuator(time);
      this.#acceptStaged();
    } catch (error) {
      this.#rejectStaged();
      const failure = error instanceof NodeFailure ? error : new NodeFailure(schedule.node, error);
      this.#logger.warn('punctuator failed; what it wrote is dropped', {
        node: failure.node,
        schedule: schedule.id,
        type: schedule.type,
        time,
        offset,
        error: errorMessage(failure.cause),
      });
    } finally {
      this.#recordOutputs = [];
      this.#punctuation = undefined;
    }
  }

  /** What the record (or flush, or punctuation) that ran wrote joins the batch. */
  #acceptStaged(): void {
    this.#batchOutputs.push(...this.#recordOutputs);
    for (const store of this.stores.values()) store.acceptRecord();
    this.punctuations.accept();
  }

  #rejectStaged(): void {
    for (const store of this.stores.values()) store.rejectRecord();
    this.punctuations.reject();
  }

  /**
   * Calls every processor's flush, parents before children; what they emit joins the batch and
   * carries the trace headers of `trace` (the batch's span) when given: a flush's outputs belong
   * to the batch, not to one record.
   */
  flush(trace?: TraceHeaders): void {
    this.#repartitionOutputs = 0;
    this.#outputTrace = trace;
    try {
      for (const { node, processor, context } of this.#processors.values()) {
        if (!processor.flush) continue;
        try {
          processor.flush(context);
        } catch (error) {
          throw error instanceof NodeFailure ? error : new NodeFailure(node.name, error);
        }
      }
    } finally {
      this.#outputTrace = undefined;
    }
    this.#acceptStaged();
    this.#recordOutputs = [];
  }

  takeOutputs(): SinkOutput[] {
    const outputs = this.#batchOutputs;
    this.#batchOutputs = [];
    this.#lastProcessed = undefined;
    return outputs;
  }

  /** The batch is durable: its store writes and punctuation state become the committed view. */
  commitBatch(): void {
    for (const store of this.stores.values()) store.commitBatch();
    this.punctuations.commitBatch();
  }

  discardBatch(): void {
    this.#lastProcessed = undefined;
    this.#batchOutputs = [];
    this.#recordOutputs = [];
    for (const store of this.stores.values()) store.discardBatch();
    this.punctuations.discardBatch();
  }

  /**
   * Drops the batch's staged outputs and writes and builds the processors afresh, so the batch
   * (or part of it) can run again from the committed state. Processors may keep per-batch state
   * between process() and flush(); new instances start without it.
   */
  resetBatch(): void {
    this.discardBatch();
    this.#instantiate();
  }

  #instantiate(): void {
    this.#processors.clear();
    for (const node of this.#reachable) {
      const processor = node.supplier();
      this.#processors.set(node.name, { node, processor, context: this.#contextFor(node) });
    }
    // After every instance exists, so an init() that forwards finds its children.
    this.#initializing = true;
    try {
      for (const { processor, context, node } of this.#processors.values()) {
        try {
          processor.init?.(context);
        } catch (error) {
          throw new NodeFailure(node.name, error);
        }
      }
    } finally {
      this.#initializing = false;
    }
  }

  #checkKey(record: ConsumedRecord, value: unknown, keyOf: (value: unknown) => string | null): void {
    let derived: string | null;
    try {
      derived = keyOf(value);
    } catch (error) {
      throw new NodeFailure(this.source.name, error);
    }
    // Bytes, not strings: a key that is not valid UTF-8 must not compare equal through replacement characters.
    const agrees = derived === null ? record.key === null : record.key?.equals(Buffer.from(derived, 'utf8')) === true;
    if (!agrees) throw new NodeFailure(this.source.name, new KeyMismatchError(this.source.name, record.key === null ? null : record.key.toString('utf8'), derived));
  }

  #reachableProcessors(): ProcessorNode[] {
    const reached = new Set<string>();
    const visit = (name: string) => {
      if (reached.has(name)) return;
      reached.add(name);
      for (const child of this.#nodes.get(name)!.children) visit(child);
    };
    visit(this.source.name);
    // Topology order (insertion order, parents first) keeps flush() parent-before-child.
    return [...this.#nodes.values()].filter((node): node is ProcessorNode => node.kind === 'processor' && reached.has(node.name));
  }

  #deliver(nodeName: string, record: ForwardedRecord<unknown>): void {
    const node = this.#nodes.get(nodeName)!;
    if (node.kind === 'sink') {
      const headers = this.#outputTrace === undefined ? (record.headers ?? {}) : withTraceHeaders(record.headers ?? {}, this.#outputTrace);
      try {
        const output = node.repartition === undefined ? { key: record.key, headers } : this.#repartitioned(node, record.value, headers);
        this.#recordOutputs.push({ sink: node.name, topic: node.topic, ...output, value: node.codec.encode(record.value) });
      } catch (error) {
        throw new NodeFailure(node.name, error);
      }
      return;
    }
    const instance = this.#processors.get(nodeName)!;
    try {
      instance.processor.process({ key: record.key, value: record.value, headers: record.headers ?? {} }, instance.context);
    } catch (error) {
      throw error instanceof NodeFailure ? error : new NodeFailure(nodeName, error);
    }
  }

  /**
   * A repartition's output: keyed by the repartition's keyOf, with an event id naming the
   * record it came from and its place among that record's repartition outputs. The id is the
   * same however often the batch runs again, and differs for every output, so the outbox keeps
   * each output exactly once.
   */
  #repartitioned(node: SinkNode, value: unknown, headers: Record<string, string>): Pick<SinkOutput, 'key' | 'headers'> {
    if (this.#punctuation !== undefined) {
      // A punctuation is named after its offset, schedule and time: unique, and the same on a rerun.
      const { offset, place } = this.#punctuation;
      const eventId = `${node.repartition}:${this.#topic}:${this.#partition}:${offset}:${place}:${this.#repartitionOutputs++}`;
      return { key: node.keyOf!(value), headers: { ...headers, 'event-id': eventId } };
    }
    const origin = this.#current ?? this.#lastProcessed;
    if (origin === undefined) {
      throw new StreamError('ILLEGAL_STATE', `"${node.name}" got a record from a flush() of a batch none of whose records was processed: it has no origin to be named after`);
    }
    const eventId = repartitionEventId(node.repartition!, {
      topic: origin.topic,
      partition: origin.partition,
      position: { epoch: this.#epoch, offset: origin.offset, phase: this.#current === undefined ? 1 : 0, index: this.#repartitionOutputs++ },
    });
    return { key: node.keyOf!(value), headers: { ...headers, 'event-id': eventId } };
  }

  #contextFor(node: ProcessorNode): ProcessorContext<unknown> {
    const allowedStores = new Set(node.stores);
    // Counts this instance's schedule() calls: what a schedule is known by when processors are built afresh.
    let scheduled = 0;
    return {
      forward: (record, childName) => {
        if (childName === undefined) {
          for (const child of node.children) this.#deliver(child, record);
          return;
        }
        if (!node.children.includes(childName)) {
          throw new StreamError('TOPOLOGY_INVALID', `"${node.name}" forwarded to "${childName}", which is not one of its children`);
        }
        this.#deliver(childName, record);
      },
      getStateStore: <K, V>(name: string): KeyValueStore<K, V> => {
        if (!allowedStores.has(name)) {
          throw new StreamError('TOPOLOGY_INVALID', `processor "${node.name}" did not declare store "${name}"`);
        }
        return this.stores.get(name) as unknown as KeyValueStore<K, V>;
      },
      recordMetadata: () => {
        if (this.#current === undefined) {
          throw new StreamError('ILLEGAL_STATE', `processor "${node.name}" asked for record metadata outside process()`, { context: { node: node.name } });
        }
        return this.#current;
      },
      currentTimeMs: () => this.#scheduler.now(),
      schedule: (intervalMs, type, punctuator) => {
        if (!this.#initializing) {
          throw new StreamError('ILLEGAL_STATE', `processor "${node.name}" called schedule() outside init(): a batch that runs again rebuilds the processors and only init() runs again`, {
            context: { node: node.name },
          });
        }
        return this.punctuations.schedule(`${node.name}#${scheduled++}`, node.name, intervalMs, type, punctuator);
      },
    };
  }
}
