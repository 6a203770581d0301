/**
 * Helpers for tests that talk to the real broker: unique names, polling waits, topics
 * that clean up after themselves.
 */
import { randomUUID } from 'node:crypto';
import type { KafkaAdmin, RecordBatch, TopicSpec } from '../../kafka/port.ts';

/** KAFKA_BROKERS (comma-separated) or the local broker. */
export function brokersFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  const raw = env.KAFKA_BROKERS?.trim();
  return raw ? raw.split(',').map((entry) => entry.trim()).filter(Boolean) : ['127.0.0.1:9092'];
}

/** A name no other test (or earlier run) uses: topic, group, client id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

export { type WaitForOptions, waitFor } from '../../core/wait.ts';

/**
 * Resolves after `ms`: ONLY for asserting that something does NOT happen within a window.
 * Waiting for something to happen is `waitFor`'s job.
 */
export function observeQuietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates uniquely named topics and deletes all of them in `cleanup()` (call it from afterAll). */
export class TopicPool {
  readonly #admin: KafkaAdmin;
  readonly #created: string[] = [];

  constructor(admin: KafkaAdmin) {
    this.#admin = admin;
  }

  async create(prefix: string, partitions: number, extra: Omit<TopicSpec, 'topic' | 'partitions'> = {}): Promise<string> {
    const topic = uniqueName(prefix);
    this.#created.push(topic);
    await this.#admin.createTopics([{ topic, partitions, ...extra }]);
    return topic;
  }

  async cleanup(): Promise<void> {
    const topics = this.#created.splice(0);
    if (topics.length > 0) await this.#admin.deleteTopics(topics);
  }
}

/** Runs `body` with a fresh topic that is deleted afterwards, whatever happens. */
export async function withTopic<T>(admin: KafkaAdmin, partitions: number, body: (topic: string) => Promise<T>, prefix = 'test'): Promise<T> {
  const pool = new TopicPool(admin);
  const topic = await pool.create(prefix, partitions);
  try {
    return await body(topic);
  } finally {
    await pool.cleanup();
  }
}

/** Collects delivered batches, flattened per partition, for assertions. */
export class BatchCollector {
  readonly batches: RecordBatch[] = [];
  readonly onBatch = (batch: RecordBatch): void => {
    this.batches.push(batch);
  };

  records(partition?: number): RecordBatch['records'] {
    return this.batches.filter((batch) => partition === undefined || batch.partition === partition).flatMap((batch) => batch.records);
  }

  values(partition?: number): string[] {
    return this.records(partition).map((record) => record.value?.toString('utf8') ?? '');
  }
}
