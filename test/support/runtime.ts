/**
 * Helpers for running the topology runtime against the real broker: a sequence-numbered
 * record format and a topology that forwards it, a Map-backed claimer and a recording
 * committer with the same compare-and-set rules as the PostgreSQL offset store, and a
 * consumer decorator that lets a test watch every delivered batch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Codec } from '../../core/codec.ts';
import { DecodeError } from '../../core/codec.ts';
import { FencedError, type StreamError } from '../../core/errors.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import type { GroupConsumer, GroupHandlers, KafkaClient, KafkaProducer, OutgoingMessage, PartitionOffset, RecordBatch, TopicPartition } from '../../kafka/port.ts';
import { tpKey } from '../../kafka/port.ts';
import { type Topology, TopologyBuilder } from '../../topology/builder.ts';
import type { Processor } from '../../topology/processor-api.ts';
import { StreamRuntime } from '../../topology/runtime/stream-runtime.ts';
import type { ClaimedPartition, CommittableBatch, Committer, PartitionClaimer, RuntimeConfig, RuntimeEvent } from '../../topology/runtime/types.ts';
import { uniqueName, type WaitForOptions, waitFor } from './kafka.ts';

/** Short enough that a member lost by SIGKILL/SIGSTOP leaves the group within seconds. */
export const FAST_GROUP_TIMING = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 10_000 };

/** A record's value: its partition and its position in that partition's produced sequence. */
export interface Sequenced {
  p: number;
  seq: number;
  pad?: string;
}

export const sequencedCodec: Codec<Sequenced> = {
  decode(bytes) {
    if (bytes === null) throw new DecodeError('value is null');
    return JSON.parse(bytes.toString('utf8')) as Sequenced;
  },
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
};

function forwardProcessor(): Processor<Sequenced, Sequenced> {
  return { process: (record, context) => context.forward({ key: record.key, value: record.value }) };
}

/** source -> forward -> sink: the smallest topology that exercises every node kind. */
export function forwardingTopology(topic: string): Topology {
  return new TopologyBuilder()
    .addSource('sequence-source', { topics: [topic], codec: sequencedCodec })
    .addProcessor('forward', { supplier: forwardProcessor }, 'sequence-source')
    .addSink('sequence-sink', { topic: `${topic}.out`, codec: sequencedCodec }, 'forward')
    .build();
}

export interface ProduceSequencedOptions {
  partitions: number;
  perPartition: number;
  /** Sequence number of each partition's first record (to append to an earlier run). */
  firstSeq?: number;
  /** Messages per send: big batches keep 100k records to a few seconds. */
  batchSize?: number;
  /** Extra bytes per value, so that one fetch holds fewer records. */
  paddingBytes?: number;
}

/**
 * Produces `perPartition` records to every partition, interleaved across partitions, each
 * value carrying its partition's next sequence number. Returns how many were sent.
 */
export async function produceSequenced(producer: KafkaProducer, topic: string, options: ProduceSequencedOptions): Promise<number> {
  const firstSeq = options.firstSeq ?? 0;
  const batchSize = options.batchSize ?? 10_000;
  const pad = options.paddingBytes ? { pad: 'x'.repeat(options.paddingBytes) } : {};
  let pending: OutgoingMessage[] = [];
  let sent = 0;
  for (let seq = firstSeq; seq < firstSeq + options.perPartition; seq++) {
    for (let partition = 0; partition < options.partitions; partition++) {
      pending.push({ topic, partition, key: `k${partition}`, value: sequencedCodec.encode({ p: partition, seq, ...pad }) });
      if (pending.length >= batchSize) {
        await producer.send(pending);
        sent += pending.length;
        pending = [];
      }
    }
  }
  await producer.send(pending);
  return sent + pending.length;
}

/** Offsets and epochs in a Map: the PostgreSQL claimer's semantics without a database. */
export class MapClaimer implements PartitionClaimer {
  readonly offsets = new Map<string, bigint>();
  readonly epochs = new Map<string, number>();

  async claim(partitions: TopicPartition[]): Promise<ClaimedPartition[]> {
    return partitions.map((tp) => {
      const key = tpKey(tp);
      const epoch = (this.epochs.get(key) ?? 0) + 1;
      this.epochs.set(key, epoch);
      return { ...tp, nextOffset: this.offsets.get(key) ?? 0n, epoch };
    });
  }

  /** The compare-and-set a commit must pass; throws FencedError like the offset store. */
  checkAndAdvance(batch: CommittableBatch): void {
    const key = tpKey(batch);
    const epoch = this.epochs.get(key);
    const stored = this.offsets.get(key) ?? 0n;
    if (epoch !== Number(batch.epoch)) throw new FencedError(batch.topic, batch.partition, `epoch ${batch.epoch} is stale: now ${epoch}`);
    if (stored !== batch.expectedNextOffset) {
      throw new FencedError(batch.topic, batch.partition, `expected next offset ${batch.expectedNextOffset} but the stored one is ${stored}`);
    }
    this.offsets.set(key, batch.nextOffset);
  }
}

export interface CommitSpan {
  partition: number;
  startedAt: number;
  endedAt: number;
}

export interface RecordingCommitterOptions {
  /** Milliseconds a commit takes, decided per batch (0 = immediate). */
  delayMs?: (batch: CommittableBatch) => number;
}

/**
 * Commits into a MapClaimer and records, per partition, the sequence numbers of the sink's
 * outputs in the order they were committed, and when each commit ran.
 */
export class RecordingCommitter implements Committer {
  readonly sequences = new Map<number, number[]>();
  readonly spans: CommitSpan[] = [];
  committedRecords = 0;
  readonly #claimer: MapClaimer;
  readonly #delayMs: (batch: CommittableBatch) => number;

  constructor(claimer: MapClaimer, options: RecordingCommitterOptions = {}) {
    this.#claimer = claimer;
    this.#delayMs = options.delayMs ?? (() => 0);
  }

  async commit(batch: CommittableBatch): Promise<void> {
    const startedAt = performance.now();
    const delay = this.#delayMs(batch);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    this.#claimer.checkAndAdvance(batch);
    let sequence = this.sequences.get(batch.partition);
    if (!sequence) {
      sequence = [];
      this.sequences.set(batch.partition, sequence);
    }
    for (const output of batch.outputs) sequence.push(sequencedCodec.decode(output.value).seq);
    this.committedRecords += batch.records;
    this.spans.push({ partition: batch.partition, startedAt, endedAt: performance.now() });
  }
}

/** Most spans open at one instant (an end and a start at the same instant do not overlap). */
export function maxConcurrency(spans: readonly CommitSpan[]): number {
  const edges = spans.flatMap((span) => [
    { at: span.startedAt, delta: 1 },
    { at: span.endedAt, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.delta;
    most = Math.max(most, open);
  }
  return most;
}

/** Describes what is wrong with a partition's committed sequence (empty when it is 0..n-1 in order). */
export function sequenceProblems(sequence: readonly number[], expectedLength: number): string[] {
  const problems: string[] = [];
  for (let index = 0; index < sequence.length && problems.length < 5; index++) {
    if (sequence[index] !== index) problems.push(`position ${index} holds seq ${sequence[index]}`);
  }
  if (sequence.length !== expectedLength) problems.push(`${sequence.length} records committed, expected ${expectedLength}`);
  return problems;
}

/**
 * Wraps a GroupConsumer and calls `beforeBatch`/`afterBatch` around the runtime's handling of
 * each delivered batch, so a test can sample the runtime's state at exactly those moments.
 */
export class ObservedConsumer implements GroupConsumer {
  beforeBatch: (batch: RecordBatch) => void = () => {};
  afterBatch: (batch: RecordBatch) => void = () => {};
  readonly #inner: GroupConsumer;

  constructor(inner: GroupConsumer) {
    this.#inner = inner;
  }

  start(handlers: GroupHandlers): Promise<void> {
    return this.#inner.start({
      ...handlers,
      onBatch: (batch) => {
        this.beforeBatch(batch);
        handlers.onBatch(batch);
        this.afterBatch(batch);
      },
    });
  }

  pause(partitions: TopicPartition[]): void {
    this.#inner.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    this.#inner.resume(partitions);
  }

  seek(offsets: PartitionOffset[]): void {
    this.#inner.seek(offsets);
  }

  assignment(): TopicPartition[] {
    return this.#inner.assignment();
  }

  commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    return this.#inner.commitOffsets(offsets);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

export interface RunningRuntime {
  runtime: StreamRuntime;
  consumer: ObservedConsumer;
  events: RuntimeEvent[];
  fatal: StreamError[];
  stop(): Promise<void>;
}

export interface StartRuntimeOptions {
  client: KafkaClient;
  topic: string;
  claimer: PartitionClaimer;
  committer: Committer;
  config?: Partial<RuntimeConfig>;
  logger?: Logger;
  /** Called right before and right after the runtime takes each delivered batch. */
  beforeBatch?: (batch: RecordBatch, runtime: StreamRuntime) => void;
  afterBatch?: (batch: RecordBatch, runtime: StreamRuntime) => void;
}

/** Starts a StreamRuntime on the forwarding topology in a fresh consumer group; `stop` is idempotent. */
export async function startForwardingRuntime(options: StartRuntimeOptions): Promise<RunningRuntime> {
  const consumer = new ObservedConsumer(options.client.groupConsumer({ groupId: uniqueName('runtime-group'), topics: [options.topic], ...FAST_GROUP_TIMING }));
  const fatal: StreamError[] = [];
  const runtime = new StreamRuntime({
    topology: forwardingTopology(options.topic),
    consumer,
    claimer: options.claimer,
    committer: options.committer,
    config: { batchMaxRecords: 500, commitIntervalMs: 50, maxInflightPerPartition: 5_000, maxInflightTotal: 50_000, ...options.config },
    logger: options.logger ?? silentLogger,
    onError: (error) => fatal.push(error),
    commitToKafka: false,
  });
  const events: RuntimeEvent[] = [];
  runtime.events$.subscribe((event) => events.push(event));
  const { beforeBatch, afterBatch } = options;
  if (beforeBatch) consumer.beforeBatch = (batch) => beforeBatch(batch, runtime);
  if (afterBatch) consumer.afterBatch = (batch) => afterBatch(batch, runtime);
  await runtime.start();
  return { runtime, consumer, events, fatal, stop: () => runtime.stop({ timeoutMs: 10_000 }) };
}

/** One line a runtime worker reported on stdout. */
export interface WorkerReport {
  event: string;
  [field: string]: unknown;
}

export interface WorkerEnv {
  WORKER_ID: string;
  WORKER_TOPIC: string;
  WORKER_GROUP: string;
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  KAFKA_CLIENT?: string;
  COMMIT_DELAY_MS?: string;
  BATCH_MAX_RECORDS?: string;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./runtime-worker.ts', import.meta.url));

/** A test/support/runtime-worker.ts child process, with what it reported. */
export class WorkerProcess {
  readonly id: string;
  readonly reports: WorkerReport[] = [];
  readonly exited: Promise<number | null>;
  #stderr = '';
  #exitCode: number | null | undefined;
  readonly #child: ChildProcess;

  constructor(env: WorkerEnv) {
    this.id = env.WORKER_ID;
    this.#child = spawn(process.execPath, [WORKER_SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      try {
        this.reports.push(JSON.parse(line) as WorkerReport);
      } catch {
        this.#stderr += `${line}\n`;
      }
    });
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code) => {
        this.#exitCode = code;
        resolve(code);
      });
    });
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Logs and anything unparsable it printed: for failure messages. */
  get stderr(): string {
    return this.#stderr;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Waits for a report matching `predicate`, failing early (with its stderr) if the worker exits. */
  waitForReport(predicate: (report: WorkerReport) => boolean, options: WaitForOptions = {}): Promise<WorkerReport> {
    return waitFor(
      () => {
        const found = this.reports.find(predicate);
        if (found) return found;
        if (!this.running) throw new Error(`worker ${this.id} exited (${this.#exitCode}): ${this.#stderr.slice(-2_000)}`);
        return undefined;
      },
      { timeoutMs: 30_000, ...options, message: `${options.message ?? 'a report'} from worker ${this.id}` },
    );
  }

  /** Ends the worker whatever state it is in (continues it first if stopped); for cleanup. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGCONT');
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}

