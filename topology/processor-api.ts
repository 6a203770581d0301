/**
 * The narrow, Kafka Streams-style contract a processor codes against. It lives here so
 * business logic depends on nothing in topology/; the runtime adapts its context to it.
 */

export interface KeyValueStore<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
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

export interface ProcessorContext<Out> {
  /** To every child, or only to `childName`. */
  forward(record: ForwardedRecord<Out>, childName?: string): void;
  getStateStore<K, V>(name: string): KeyValueStore<K, V>;
  /** Of the record being processed. */
  recordMetadata(): RecordMetadata;
  currentTimeMs(): number;
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
