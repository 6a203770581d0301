/**
 * The narrow, Kafka Streams-style contract a processor codes against. It lives here so
 * business logic depends on nothing in topology/; the runtime adapts its context to it.
 */

/**
 * A task's view of a state store: reads come from its cache (the keys a record needs were
 * prefetched before its batch ran), writes are staged and committed with the batch. A processor
 * never sees how the store is kept (a table, a Map).
 */
export interface KeyValueStore<K, V> {
  /** The value, or undefined when the key is absent. */
  get(key: K): V | undefined;
  /** The values of the keys that are present; an absent key is left out. */
  getAll(keys: Iterable<K>): Map<K, V>;
  /** `value` must not be undefined: use delete. */
  put(key: K, value: V): void;
  delete(key: K): void;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
}

export interface ForwardedRecord<Out> {
  key: string | null;
  value: Out;
  headers?: Record<string, string>;
}

/**
 * What drives a punctuator (as Kafka Streams' PunctuationType): `stream-time`, the largest
 * timestamp of the records the task has processed, so it advances only as records arrive;
 * `wall-clock`, the task's clock, which advances whether records arrive or not.
 */
export type PunctuationType = 'stream-time' | 'wall-clock';

/** Called with the stream time (`stream-time`) or the clock's time (`wall-clock`) it fires at. */
export type Punctuator = (timestamp: number) => void;

export interface Cancellable {
  /** The punctuator fires no more (durably once the batch that cancels it commits). */
  cancel(): void;
}

export interface ProcessorContext<Out> {
  /** To every child, or only to `childName`. */
  forward(record: ForwardedRecord<Out>, childName?: string): void;
  getStateStore<K, V>(name: string): KeyValueStore<K, V>;
  /** Of the record being processed. */
  recordMetadata(): RecordMetadata;
  currentTimeMs(): number;
  /**
   * Calls `punctuator` every `intervalMs` of `type` time; allowed in init() only. What it writes
   * and forwards commits with the task's batch like a record's writes; it has no record metadata.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
}

export interface InputRecord<In> {
  key: string | null;
  value: In;
  headers: Record<string, string>;
}

export interface Processor<In, Out> {
  init?(context: ProcessorContext<Out>): void;
  process(record: InputRecord<In>, context: ProcessorContext<Out>): void;
  /** End of a micro-batch, before the commit: emit batch-level aggregates. */
  flush?(context: ProcessorContext<Out>): void;
}
