/**
 * Group consumer on kafkajs. kafkajs has no revoke callback and starts every (re)assignment
 * from Kafka's committed offsets, so on each GROUP_JOIN this adapter:
 *  - pauses newly assigned partitions until `onAssigned` says where to start, then seeks there;
 *  - seeks retained partitions back to the position it tracks itself;
 *  - re-applies its pause state (a kafkajs restart after a crash forgets pauses).
 * kafkajs's `seek` applies lazily (only on the next fetch, only after `run()`), so every
 * batch is checked against the tracked position: records before it are dropped, and a batch
 * fetched from beyond it (which would skip records) triggers a new seek instead of delivery.
 */
import type { Batch, Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, ConsumerStartBatchProcessEvent, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { errorMessage, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { AssignmentTracker } from '../assignment.ts';
import { groupTiming } from '../group-timing.ts';
import { type ConsumedRecord, ConsumerStoppedError, type GroupConsumer, type GroupConsumerOptions, type GroupHandlers, OffsetOutOfRangeError, type PartitionOffset, type TopicPartition } from '../port.ts';
import { translating } from './errors.ts';

/** Bounds how long a resumed partition waits when every partition was idle or paused. */
const MAX_WAIT_MS = 500;

export interface KafkajsGroupBehaviour {
  /** Log partitions onAssigned left without a start offset (the partition reader does so on purpose). */
  warnUnstarted: boolean;
}

export class KafkajsGroupConsumer implements GroupConsumer {
  readonly #kafka: Kafka;
  readonly #options: GroupConsumerOptions;
  readonly #logger: Logger;
  readonly #behaviour: KafkajsGroupBehaviour;
  readonly #tracker = new AssignmentTracker();
  #consumer: Consumer | undefined;
  #handlers: GroupHandlers | undefined;
  #lastMemberId: string | undefined;
  #closed = false;

  constructor(kafka: Kafka, options: GroupConsumerOptions, logger: Logger, behaviour: KafkajsGroupBehaviour = { warnUnstarted: true }) {
    this.#kafka = kafka;
    this.#options = options;
    this.#logger = logger;
    this.#behaviour = behaviour;
  }

  async start(handlers: GroupHandlers): Promise<void> {
    if (this.#consumer) throw new StreamError('ILLEGAL_STATE', 'group consumer already started', { context: { group: this.#options.groupId } });
    this.#handlers = handlers;
    const timing = groupTiming(this.#options);
    const consumer = this.#kafka.consumer({
      groupId: this.#options.groupId,
      sessionTimeout: timing.sessionTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
      maxWaitTimeInMs: MAX_WAIT_MS,
      ...(this.#options.fetchMaxBytes === undefined ? {} : { maxBytes: this.#options.fetchMaxBytes }),
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => this.#onJoin(consumer, event.payload.memberAssignment, event.payload.memberId));
    consumer.on(consumer.events.START_BATCH_PROCESS, (event: ConsumerStartBatchProcessEvent) => this.#onStartBatch(event));
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (this.#closed) return;
      if (event.payload.restart) {
        this.#logger.warn('consumer crashed, kafkajs restarts it', { error: errorMessage(event.payload.error) });
        return;
      }
      handlers.onError(new ConsumerStoppedError(`kafkajs does not restart it after ${errorMessage(event.payload.error)}`, event.payload.error));
    });
    await translating(this.#context(), async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: this.#options.topics, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload: EachBatchPayload) => this.#onBatch(consumer, payload),
      });
    });
  }

  pause(partitions: TopicPartition[]): void {
    const changed = this.#tracker.pause(partitions);
    if (changed.length > 0) this.#consumer?.pause(byTopic(changed));
  }

  resume(partitions: TopicPartition[]): void {
    const changed = this.#tracker.resume(partitions).filter((tp) => this.#tracker.isFetchable(tp));
    if (changed.length > 0) this.#consumer?.resume(byTopic(changed));
  }

  seek(offsets: PartitionOffset[]): void {
    const moved = this.#tracker.seek(offsets);
    const consumer = this.#consumer;
    if (!consumer || moved.length === 0) return;
    for (const { topic, partition, offset } of moved) consumer.seek({ topic, partition, offset: offset.toString() });
    const fetchable = moved.filter((tp) => this.#tracker.isFetchable(tp));
    if (fetchable.length > 0) consumer.resume(byTopic(fetchable));
  }

  assignment(): TopicPartition[] {
    return this.#tracker.assignment();
  }

  async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || offsets.length === 0) return;
    await translating(this.#context(), () => consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() }))));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const consumer = this.#consumer;
    if (consumer) await translating(this.#context(), () => consumer.disconnect());
  }

  #context(): { group: string; topics: string[] } {
    return { group: this.#options.groupId, topics: this.#options.topics };
  }

  #onJoin(consumer: Consumer, memberAssignment: Record<string, number[]>, memberId: string): void {
    const handlers = this.#handlers;
    if (this.#closed || !handlers) return;
    const next = Object.entries(memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
    // A member dropped from the group rejoins under a new member id; its partitions may have been
    // claimed by another member in between, so what looks retained is newly assigned: report it
    // revoked and assigned again, or a partition fenced meanwhile stays halted.
    const lostMembership = this.#lastMemberId !== undefined && memberId !== this.#lastMemberId;
    this.#lastMemberId = memberId;
    const dropped = lostMembership ? this.#tracker.assign([]).revoked : [];
    const change = this.#tracker.assign(next);
    const revoked = [...dropped, ...change.revoked];
    this.#logger.info('assignment changed', { added: change.added.length, revoked: revoked.length, owned: next.length, ...(lostMembership ? { lostMembership, memberId } : {}) });

    for (const { topic, partition, offset } of this.#tracker.positions()) consumer.seek({ topic, partition, offset: offset.toString() });
    this.#syncPauses(consumer);
    // Forget kafkajs's pause state of partitions we lost, so a later re-assignment starts clean.
    const released = revoked.filter((tp) => !this.#tracker.owns(tp));
    if (released.length > 0) consumer.resume(byTopic(released));
    if (revoked.length > 0) handlers.onRevoked(revoked);
    if (change.added.length === 0) return;

    // Through a promise even if onAssigned throws synchronously, so the failure reaches onError.
    Promise.resolve(change.added).then((added) => handlers.onAssigned(added)).then(
      (offsets) => {
        if (this.#closed) return;
        const started = this.#tracker.start(change.round, offsets);
        for (const { topic, partition, offset } of started) consumer.seek({ topic, partition, offset: offset.toString() });
        const fetchable = started.filter((tp) => this.#tracker.isFetchable(tp));
        if (fetchable.length > 0) consumer.resume(byTopic(fetchable));
        const unstarted = this.#tracker.unstarted(change.round);
        if (unstarted.length > 0 && this.#behaviour.warnUnstarted) {
          this.#logger.info('partitions without a start offset wait until seek() gives one', { unstarted });
        }
      },
      (error: unknown) => {
        this.#logger.error('onAssigned failed; the new partitions are not read', { error: errorMessage(error) });
        handlers.onError(error);
      },
    );
  }

  /** Makes kafkajs fetch exactly the partitions the tracker considers fetchable. */
  #syncPauses(consumer: Consumer): void {
    const owned = this.#tracker.assignment();
    const stopped = owned.filter((tp) => !this.#tracker.isFetchable(tp));
    const running = owned.filter((tp) => this.#tracker.isFetchable(tp));
    if (stopped.length > 0) consumer.pause(byTopic(stopped));
    if (running.length > 0) consumer.resume(byTopic(running));
  }

  #onBatch(consumer: Consumer, { batch, resolveOffset }: EachBatchPayload): void {
    const tp = { topic: batch.topic, partition: batch.partition };
    const fetchedFrom = fetchedOffsetOf(batch);
    // kafkajs answers OFFSET_OUT_OF_RANGE by moving to the log end by itself, so the error never
    // reaches us; a position beyond the log end gives it away. Seeking back would loop forever,
    // and delivering would skip silently: stop reading the partition and let the runtime decide.
    const position = this.#tracker.position(tp);
    const logEnd = BigInt(batch.highWatermark);
    if (position !== undefined && position > logEnd) {
      this.#tracker.halt(tp);
      consumer.pause(byTopic([tp]));
      this.#handlers?.onError(new OffsetOutOfRangeError({ ...tp, offset: position, logEndOffset: logEnd }));
      return;
    }
    const admission = this.#tracker.admit(tp, fetchedFrom);
    if (admission.action === 'reseek') {
      this.#logger.debug('batch fetched past the position, seeking back', { ...tp, fetchedFrom: String(fetchedFrom), position: String(admission.to) });
      consumer.seek({ ...tp, offset: admission.to.toString() });
      return;
    }
    // Not resolved: kafkajs reads it again once the partition is fetchable.
    if (admission.action === 'drop') return;
    const records = batch.messages.filter((message) => BigInt(message.offset) >= admission.from).map((message) => toRecord(batch, message));
    const lastOffset = batch.lastOffset();
    resolveOffset(lastOffset);
    this.#tracker.advance(tp, BigInt(lastOffset) + 1n);
    if (records.length === 0 || !this.#handlers) return;
    // Thrown into kafkajs, the error would crash and restart the consumer; the records count as delivered.
    try {
      this.#handlers.onBatch({ ...tp, records });
    } catch (error) {
      this.#handlers.onError(error);
    }
  }

  /**
   * Batches made only of transaction markers or aborted records never reach eachBatch:
   * kafkajs resolves them itself. Follow it, or every later batch would look like a gap.
   */
  #onStartBatch(event: ConsumerStartBatchProcessEvent): void {
    const { topic, partition, batchSize, firstOffset, lastOffset } = event.payload;
    if (batchSize !== 0 || firstOffset === null || firstOffset === undefined) return;
    const position = this.#tracker.position({ topic, partition });
    if (position === undefined || position < BigInt(firstOffset) || position > BigInt(lastOffset)) return;
    this.#tracker.advance({ topic, partition }, BigInt(lastOffset) + 1n);
  }
}

/**
 * The offset kafkajs asked the broker for. kafkajs 2.2.4's Batch keeps it as `fetchedOffset`
 * without typing it; it is what tells a contiguous batch from one that skipped records.
 */
function fetchedOffsetOf(batch: Batch): bigint {
  const fetchedOffset = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
  if (fetchedOffset === undefined) throw new TypeError('kafkajs Batch has no fetchedOffset: this adapter needs kafkajs 2.2.x');
  return BigInt(fetchedOffset);
}

function toRecord(batch: Batch, message: KafkaMessage): ConsumedRecord {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: BigInt(message.offset),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

function decodeHeaders(headers: KafkaMessage['headers']): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    // kafkajs turns a repeated header into an array; the port keeps one value per name, the last.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    decoded[name] = last === undefined ? '' : last.toString();
  }
  return decoded;
}

export function byTopic(partitions: TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = grouped.get(topic);
    if (list) list.push(partition);
    else grouped.set(topic, [partition]);
  }
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}
