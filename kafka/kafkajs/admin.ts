/** Topic administration on kafkajs. */
import { withRetry } from '../../core/retry.ts';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';

// A CommonJS module whose enums Node's ESM loader cannot see as named exports.
const { ConfigResourceTypes } = kafkajs;
import type { KafkaAdmin, TopicSpec } from '../port.ts';

export class KafkajsAdmin implements KafkaAdmin {
  readonly #admin: Admin;

  constructor(kafka: Kafka) {
    this.#admin = kafka.admin();
  }

  async connect(): Promise<void> {
    await this.#admin.connect();
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    // kafkajs's waitForLeaders fails on UNKNOWN_TOPIC_OR_PARTITION when a busy broker's metadata
    // lags the creation; a second pass finds the topic created and waits again.
    await withRetry(() => this.#createMissing(topics), { policy: { maxAttempts: 5, initialDelayMs: 200 } });
  }

  async #createMissing(topics: TopicSpec[]): Promise<void> {
    const existing = new Set(await this.listTopics());
    const missing = topics.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return;
    // kafkajs reports a topic that exists by then (a concurrent creator) as `false`, not as an error.
    await this.#admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? 1,
        configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await this.#admin.deleteTopics({ topics: present });
  }

  async listTopics(): Promise<string[]> {
    return (await this.#admin.listTopics()).sort();
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    if (!(await this.listTopics()).includes(topic)) return undefined;
    const { topics } = await this.#admin.fetchTopicMetadata({ topics: [topic] });
    return topics.find((entry) => entry.name === topic)?.partitions.length;
  }

  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  }

  async maxMessageBytes(topic: string): Promise<number> {
    try {
      return await this.#config(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes');
    } catch {
      const { brokers } = await this.#admin.describeCluster();
      const broker = brokers[0];
      if (broker === undefined) throw new Error('the cluster metadata lists no broker');
      return this.#config(ConfigResourceTypes.BROKER, String(broker.nodeId), 'message.max.bytes');
    }
  }

  async #config(type: kafkajs.ConfigResourceTypes, name: string, configName: string): Promise<number> {
    const { resources } = await this.#admin.describeConfigs({ resources: [{ type, name, configNames: [configName] }], includeSynonyms: false });
    const value = Number(resources[0]?.configEntries.find((entry) => entry.configName === configName)?.configValue);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${configName} of ${name} is not readable`);
    return value;
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }
}
