/**
 * Reads given partitions from given offsets with kafkajs. kafkajs cannot fetch without a
 * consumer group, so the reader joins a group of its own (a fresh id, never committed to):
 * it is the only member, receives every partition of the topics, starts the requested ones
 * at their offsets and leaves the others unread.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PartitionOffset, PartitionReader, PartitionReaderOptions, RecordBatch } from '../port.ts';
import { tpKey } from '../port.ts';
import { KafkajsGroupConsumer } from './group-consumer.ts';

export class KafkajsPartitionReader implements PartitionReader {
  readonly #kafka: Kafka;
  readonly #options: PartitionReaderOptions;
  readonly #logger: Logger;
  #consumer: KafkajsGroupConsumer | undefined;

  constructor(kafka: Kafka, options: PartitionReaderOptions, logger: Logger) {
    this.#kafka = kafka;
    this.#options = options;
    this.#logger = logger;
  }

  async start(starts: PartitionOffset[], onBatch: (batch: RecordBatch) => void): Promise<void> {
    if (this.#consumer) throw new StreamError('ILLEGAL_STATE', 'partition reader already started');
    const wanted = new Map(starts.map((start) => [tpKey(start), start]));
    const groupId = `${this.#options.clientId ?? 'partition-reader'}.${randomUUID()}`;
    this.#consumer = new KafkajsGroupConsumer(
      this.#kafka,
      { groupId, topics: [...new Set(starts.map((start) => start.topic))], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
      this.#logger,
      { warnUnstarted: false },
    );
    await this.#consumer.start({
      onAssigned: async (partitions) => partitions.flatMap((tp) => wanted.get(tpKey(tp)) ?? []),
      onRevoked: () => {},
      onBatch,
      onError: (error) => this.#logger.error('partition reader cannot read', { error: String(error) }),
    });
  }

  async close(): Promise<void> {
    await this.#consumer?.close();
  }
}
