/**
 * Test doubles and sample processors for the topology runtime's unit tests: a JSON codec,
 * small processors (uppercase, counter, thrower), an in-memory GroupConsumer, a claimer and
 * committers whose timing the test controls.
 */

import { jest } from '@jest/globals';
import type { Codec } from '../../../core/codec.ts';
import { DecodeError } from '../../../core/codec.ts';
import type {
  ConsumedRecord,
  GroupConsumer,
  GroupHandlers,
  PartitionOffset,
  TopicPartition,
} from '../../../kafka/port.ts';
import { tpKey } from '../../../kafka/port.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import type { ClaimedPartition, CommittableBatch, Committer, PartitionClaimer } from '../../../topology/runtime/types.ts';

export interface Word {
  text: string;
}

export const jsonCodec: Codec<unknown> = {
  decode(bytes) {
    if (bytes === null) throw new DecodeError('value is null');
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new DecodeError(`value is not JSON: ${(error as Error).message}`, error);
    }
  },
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
};

export function upperCaseProcessor(): Processor<Word, Word> {
  return { process: (record, context) => context.forward({ key: record.key, value: { text: record.value.text.toUpperCase() } }) };
}

/** Counts records per key in store `counts` and forwards the running count. */
export function counterProcessor(): Processor<Word, { key: string | null; count: number; offset: string }> {
  return {
    process(record, context) {
      const counts = context.getStateStore<string, number>('counts');
      const key = record.key ?? '';
      const count = (counts.get(key) ?? 0) + 1;
      counts.put(key, count);
      context.forward({ key: record.key, value: { key: record.key, count, offset: String(context.recordMetadata().offset) } });
    },
  };
}

/** Writes to the store, then throws for `boom`: the write must not survive the failure. */
export function throwOnBoomProcessor(): Processor<Word, Word> {
  return {
    process(record, context) {
      context.getStateStore<string, number>('counts').put(`seen:${record.key}`, 1);
      if (record.value.text === 'boom') throw new TypeError('cannot handle boom');
      context.forward({ key: record.key, value: record.value });
    },
  };
}

/** Splits a line into its words and forwards each one (several records per input). */
export function splitWordsProcessor(): Processor<{ line: string }, Word> {
  return {
    process(record, context) {
      for (const text of record.value.line.split(/\s+/).filter(Boolean)) context.forward({ key: record.key, value: { text } });
    },
  };
}

/** Counts records per key in store `word-counts` and forwards the running count. */
export function wordCountProcessor(): Processor<Word, { word: string; count: number }> {
  return {
    process(record, context) {
      const counts = context.getStateStore<string, number>('word-counts');
      const count = (counts.get(record.value.text) ?? 0) + 1;
      counts.put(record.value.text, count);
      context.forward({ key: record.key, value: { word: record.value.text, count } });
    },
  };
}

/**
 * Two sub-topologies joined by a repartition: lines are split into words, re-keyed by word
 * through `wordcount-by-word-repartition`, and counted per word downstream.
 */
export function wordCountTopology(options: { partitions?: number } = {}) {
  return new TopologyBuilder({ applicationId: 'wordcount' })
    .addStateStore(memoryStoreSpec('word-counts'))
    .addSource('lines-source', { topics: ['lines'], codec: jsonCodec })
    .addProcessor('split-words', { supplier: splitWordsProcessor }, 'lines-source')
    .addRepartition('by-word', { keyOf: (word: Word) => word.text, codec: jsonCodec as Codec<Word>, ...options }, 'split-words')
    .addProcessor('count-words', { supplier: wordCountProcessor, stores: ['word-counts'] }, 'by-word-repartition-source')
    .addSink('counts-sink', { topic: 'word-counts', codec: jsonCodec }, 'count-words')
    .build();
}

export function memoryStoreSpec(name: string, data = new Map<unknown, unknown>()) {
  const loads: unknown[][] = [];
  return {
    name,
    loads,
    data,
    load: async (keys: unknown[]) => {
      loads.push(keys);
      return new Map(keys.filter((key) => data.has(key)).map((key) => [key, data.get(key)]));
    },
  };
}

export function record(topic: string, partition: number, offset: number, key: string | null, value: unknown): ConsumedRecord {
  return {
    topic,
    partition,
    offset: BigInt(offset),
    key: key === null ? null : Buffer.from(key),
    value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
    headers: {},
    timestamp: 1_700_000_000_000 + offset,
  };
}

export { waitFor } from '../../../core/wait.ts';

/**
 * Switches the test to virtual time (jest fake timers; the test's afterEach switches back) for
 * asserting that something did NOT happen: the returned `elapse(ms)` runs every timer due within
 * `ms` and every promise callback they lead to, so "nothing happened within ms" is exact, not a
 * race with a sleep. Call it before starting the runtime, so that every timer it sets is virtual.
 */
export function useVirtualTime(): (ms: number) => Promise<void> {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
  return async (ms) => {
    await jest.advanceTimersByTimeAsync(ms);
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

export interface CommitCall {
  batch: CommittableBatch;
  startedAt: number;
  settledAt?: number;
  release(): void;
  fail(error: unknown): void;
}

/**
 * A committer whose commits wait until the test releases them (or resolve at once with
 * `autoRelease`), recording when each started and settled.
 */
export class ControlledCommitter implements Committer {
  readonly calls: CommitCall[] = [];
  autoRelease: boolean;
  /** Errors thrown by the next commits, in order, before any waiting. */
  readonly failures: unknown[] = [];
  #clock = 0;

  constructor(options: { autoRelease?: boolean } = {}) {
    this.autoRelease = options.autoRelease ?? false;
  }

  async commit(batch: CommittableBatch): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    const gate = deferred();
    const call: CommitCall = { batch, startedAt: this.#clock++, release: gate.resolve, fail: gate.reject };
    this.calls.push(call);
    if (this.autoRelease) gate.resolve();
    try {
      await gate.promise;
    } finally {
      call.settledAt = this.#clock++;
    }
  }

  pending(partition?: number): CommitCall[] {
    return this.calls.filter((call) => call.settledAt === undefined && (partition === undefined || call.batch.partition === partition));
  }

  committed(partition?: number): CommittableBatch[] {
    return this.calls.filter((call) => call.settledAt !== undefined && (partition === undefined || call.batch.partition === partition)).map((call) => call.batch);
  }
}

export class FakeClaimer implements PartitionClaimer {
  readonly offsets = new Map<string, bigint>();
  epoch = 0;
  readonly claims: TopicPartition[][] = [];
  readonly released: ClaimedPartition[] = [];
  /** Errors thrown by the next claims, in order. */
  readonly failures: unknown[] = [];
  /** While set, claims wait until the test calls `landClaims`. */
  hold = false;
  readonly #held: Array<() => void> = [];

  async claim(partitions: TopicPartition[]): Promise<ClaimedPartition[]> {
    this.claims.push(partitions);
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    this.epoch++;
    const epoch = this.epoch;
    const claimed = partitions.map((tp) => ({ ...tp, nextOffset: this.offsets.get(tpKey(tp)) ?? 0n, epoch }));
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    return claimed;
  }

  /** Lets the held claims return. */
  landClaims(): void {
    for (const land of this.#held.splice(0)) land();
  }

  get heldClaims(): number {
    return this.#held.length;
  }

  async release(claims: ClaimedPartition[]): Promise<void> {
    this.released.push(...claims);
  }
}

/** The GroupConsumer port in memory: the test plays the broker and the group coordinator. */
export class FakeGroupConsumer implements GroupConsumer {
  handlers: GroupHandlers | undefined;
  readonly paused = new Set<string>();
  readonly pauseCalls: string[][] = [];
  readonly resumeCalls: string[][] = [];
  readonly kafkaCommits: PartitionOffset[] = [];
  readonly seeks: PartitionOffset[] = [];
  assigned: TopicPartition[] = [];
  closed = false;

  async start(handlers: GroupHandlers): Promise<void> {
    this.handlers = handlers;
  }

  pause(partitions: TopicPartition[]): void {
    this.pauseCalls.push(partitions.map(tpKey));
    for (const tp of partitions) this.paused.add(tpKey(tp));
  }

  resume(partitions: TopicPartition[]): void {
    this.resumeCalls.push(partitions.map(tpKey));
    for (const tp of partitions) this.paused.delete(tpKey(tp));
  }

  seek(offsets: PartitionOffset[]): void {
    const owned = new Set(this.assigned.map(tpKey));
    this.seeks.push(...offsets.filter((offset) => owned.has(tpKey(offset))));
  }

  assignment(): TopicPartition[] {
    return this.assigned;
  }

  async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    this.kafkaCommits.push(...offsets);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Assigns partitions (added to the current assignment) and returns the start offsets the runtime chose. */
  async assign(partitions: TopicPartition[], { replace = false } = {}): Promise<PartitionOffset[]> {
    this.assigned = replace ? [...partitions] : [...this.assigned, ...partitions];
    return this.handlers!.onAssigned(partitions);
  }

  revoke(partitions: TopicPartition[]): void {
    const gone = new Set(partitions.map(tpKey));
    this.assigned = this.assigned.filter((tp) => !gone.has(tpKey(tp)));
    this.handlers!.onRevoked(partitions);
  }

  deliver(topic: string, partition: number, records: ConsumedRecord[]): void {
    this.handlers!.onBatch({ topic, partition, records });
  }
}
