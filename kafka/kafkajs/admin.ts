/** Topic administration on kafkajs. */

import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { StreamError } from '../../core/errors.ts';
import { RETRY_POLICIES, withRetry } from '../../core/retry.ts';
import { BROKER_DEFAULT_REPLICATION_FACTOR, type GroupMemberInfo, type KafkaAdmin, type OffsetSpec, ReplicationFactorError, type TopicSpec } from '../port.ts';
import { translateKafkajsError, translating } from './errors.ts';

// A CommonJS module whose enums Node's ESM loader cannot see as named exports.
const { ConfigResourceTypes } = kafkajs;

export class KafkajsAdmin implements KafkaAdmin {
  readonly #admin: Admin;

  constructor(kafka: Kafka) {
    this.#admin = kafka.admin();
  }

  async connect(): Promise<void> {
    await translating({}, () => this.#admin.connect());
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    // kafkajs's waitForLeaders fails on UNKNOWN_TOPIC_OR_PARTITION when a busy broker's metadata
    // lags the creation; a second pass finds the topic created and waits again. What a pass
    // throws is translated already, so the retry goes by kafkajs's own flags.
    await withRetry(() => this.#createMissing(topics), { policy: RETRY_POLICIES.topicCreation });
  }

  async #createMissing(topics: TopicSpec[]): Promise<void> {
    const existing = new Set(await this.listTopics());
    const missing = topics.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return;
    // kafkajs reports a topic that exists by then (a concurrent creator) as `false`, not as an error.
    try {
      await this.#admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor ?? BROKER_DEFAULT_REPLICATION_FACTOR,
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      // A KafkaJSAggregateError with one KafkaJSCreateTopicError per refused topic.
      const nested = (error as { errors?: Array<{ type?: string; topic?: string; message?: string }> }).errors ?? [];
      const refused = nested.find((entry) => entry.type === 'INVALID_REPLICATION_FACTOR');
      if (refused) {
        const spec = missing.find((candidate) => candidate.topic === refused.topic) ?? missing[0]!;
        throw new ReplicationFactorError(spec.topic, spec.replicationFactor ?? BROKER_DEFAULT_REPLICATION_FACTOR, refused.message ?? 'INVALID_REPLICATION_FACTOR', error);
      }
      throw translateKafkajsError(error, missing.length === 1 ? { topic: missing[0]!.topic } : { topics: missing.map((spec) => spec.topic) });
    }
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await translating({ topics: present }, () => this.#admin.deleteTopics({ topics: present }));
  }

  async listTopics(): Promise<string[]> {
    return (await translating({}, () => this.#admin.listTopics())).sort();
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    if (!(await this.listTopics()).includes(topic)) return undefined;
    const { topics } = await translating({ topic }, () => this.#admin.fetchTopicMetadata({ topics: [topic] }));
    return topics.find((entry) => entry.name === topic)?.partitions.length;
  }

  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    return this.listOffsets(topic, 'latest');
  }

  async listOffsets(topic: string, at: OffsetSpec): Promise<Map<number, bigint>> {
    const bounds = await translating({ topic }, () => this.#admin.fetchTopicOffsets(topic));
    if (at === 'latest' || at === 'earliest') return new Map(bounds.map((entry) => [entry.partition, BigInt(at === 'latest' ? entry.high : entry.low)]));
    const ends = new Map(bounds.map((entry) => [entry.partition, BigInt(entry.high)]));
    const found = await translating({ topic }, () => this.#admin.fetchTopicOffsetsByTimestamp(topic, at.timestamp));
    // No record at or after the timestamp: Kafka answers -1; the position then is the log end.
    return new Map(found.map((entry) => [entry.partition, BigInt(entry.offset) < 0n ? (ends.get(entry.partition) ?? 0n) : BigInt(entry.offset)]));
  }

  async groupMembers(groupId: string): Promise<GroupMemberInfo[]> {
    const { groups } = await translating({ group: groupId }, () => this.#admin.describeGroups([groupId]));
    const described = groups.find((entry) => entry.groupId === groupId);
    const members = described?.members ?? [];
    if (members.length > 0) return members.map((member) => ({ memberId: member.memberId, clientId: member.clientId, host: member.clientHost }));
    // DescribeGroups answers a KIP-848 (`consumer` protocol) group as dead, like a group that does
    // not exist; listed all the same, it exists, and kafkajs's ListGroups gives no state: whether
    // anyone is in it is unknown, so assume someone is.
    if (described?.state !== 'Dead') return [];
    const listed = (await translating({ group: groupId }, () => this.#admin.listGroups())).groups.some((entry) => entry.groupId === groupId);
    if (!listed) return [];
    return [{ memberId: 'unknown', clientId: 'members of a consumer-protocol group (kafkajs cannot list them; KAFKA_CLIENT=platformatic can)', host: 'unknown' }];
  }

  async maxMessageBytes(topic: string): Promise<number> {
    try {
      return await this.#config(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes');
    } catch {
      const { brokers } = await translating({ topic }, () => this.#admin.describeCluster());
      const broker = brokers[0];
      if (broker === undefined) throw new StreamError('SERVICE_UNAVAILABLE', 'the cluster metadata lists no broker', { retriable: true, context: { topic } });
      return this.#config(ConfigResourceTypes.BROKER, String(broker.nodeId), 'message.max.bytes');
    }
  }

  async #config(type: kafkajs.ConfigResourceTypes, name: string, configName: string): Promise<number> {
    const { resources } = await translating({ resourceName: name }, () =>
      this.#admin.describeConfigs({ resources: [{ type, name, configNames: [configName] }], includeSynonyms: false }),
    );
    const value = Number(resources[0]?.configEntries.find((entry) => entry.configName === configName)?.configValue);
    if (!Number.isSafeInteger(value) || value <= 0) throw new StreamError('REQUEST_REFUSED', `${configName} of ${name} is not readable`, { context: { resourceName: name } });
    return value;
  }

  async close(): Promise<void> {
    await translating({}, () => this.#admin.disconnect());
  }
}
