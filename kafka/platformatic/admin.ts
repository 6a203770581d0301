/** Topic administration on @platformatic/kafka. */
import { Admin, ConfigResourceTypes, findErrorBy, ListOffsetTimestamps } from '@platformatic/kafka';
import { StreamError } from '../../core/errors.ts';
import { BROKER_DEFAULT_REPLICATION_FACTOR, type GroupMemberInfo, type KafkaAdmin, type OffsetSpec, ReplicationFactorError, type TopicSpec } from '../port.ts';
import { translatePlatformaticError, translating } from './errors.ts';

export class PlatformaticAdmin implements KafkaAdmin {
  readonly #admin: Admin;

  constructor(brokers: string[], clientId: string) {
    this.#admin = new Admin({ clientId, bootstrapBrokers: brokers });
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    const existing = new Set(await this.listTopics());
    // One request per topic: partitions and configs are per topic in the spec.
    for (const spec of topics.filter((topic) => !existing.has(topic.topic))) {
      const replicas = spec.replicationFactor ?? BROKER_DEFAULT_REPLICATION_FACTOR;
      try {
        await this.#admin.createTopics({
          topics: [spec.topic],
          partitions: spec.partitions,
          replicas,
          configs: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        });
      } catch (error) {
        // Someone else created it between our listing and our request: that is the wanted state.
        if (error instanceof Error && findErrorBy(error, 'apiId', 'TOPIC_ALREADY_EXISTS')) continue;
        const refused = error instanceof Error ? findErrorBy(error, 'apiId', 'INVALID_REPLICATION_FACTOR') : null;
        if (refused) throw new ReplicationFactorError(spec.topic, replicas, refused.message, error);
        throw translatePlatformaticError(error, { topic: spec.topic });
      }
    }
    await this.#waitUntilVisible(topics.map((topic) => topic.topic));
  }

  /**
   * CreateTopics returns before every broker's metadata shows the topic (kafkajs's
   * waitForLeaders does the same wait): callers may use the topic as soon as this resolves.
   */
  async #waitUntilVisible(topics: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listed = new Set(await this.listTopics());
      if (topics.every((topic) => listed.has(topic))) {
        const metadata = await translating({ topics }, () => this.#admin.metadata({ topics, forceUpdate: true }));
        if (topics.every((topic) => metadata.topics.get(topic)?.partitions.every((partition) => partition.leader >= 0))) return;
      }
      if (Date.now() > deadline) {
        throw new StreamError('SERVICE_UNAVAILABLE', `topics ${topics.join(', ')} not visible ${timeoutMs} ms after creation`, { retriable: true, context: { topics } });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
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
    const metadata = await translating({ topic }, () => this.#admin.metadata({ topics: [topic], forceUpdate: true }));
    return metadata.topics.get(topic)?.partitionsCount;
  }

  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    return this.listOffsets(topic, 'latest');
  }

  async listOffsets(topic: string, at: OffsetSpec): Promise<Map<number, bigint>> {
    const count = await this.partitionCount(topic);
    if (count === undefined) throw new StreamError('REQUEST_REFUSED', `topic ${topic} does not exist`, { context: { topic } });
    const timestamp = at === 'latest' ? ListOffsetTimestamps.LATEST : at === 'earliest' ? ListOffsetTimestamps.EARLIEST : BigInt(at.timestamp);
    const listed = await this.#list(topic, count, timestamp);
    if (typeof at === 'object' && [...listed.values()].some((offset) => offset < 0n)) {
      // No record at or after the timestamp: Kafka answers -1; the position then is the log end.
      const ends = await this.#list(topic, count, ListOffsetTimestamps.LATEST);
      for (const [partition, offset] of listed) if (offset < 0n) listed.set(partition, ends.get(partition) ?? 0n);
    }
    return listed;
  }

  async #list(topic: string, count: number, timestamp: bigint): Promise<Map<number, bigint>> {
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
    const listed = await translating({ topic }, () => this.#admin.listOffsets({ topics: [{ name: topic, partitions }] }));
    const result = new Map<number, bigint>();
    for (const entry of listed.find((t) => t.name === topic)?.partitions ?? []) result.set(entry.partitionIndex, entry.offset);
    return result;
  }

  async groupMembers(groupId: string): Promise<GroupMemberInfo[]> {
    const groups = await translating({ group: groupId }, () => this.#admin.describeGroups({ groups: [groupId] }));
    const members = [...(groups.get(groupId)?.members.values() ?? [])];
    if (members.length > 0) return members.map((member) => ({ memberId: member.id, clientId: member.clientId, host: member.clientHost }));
    // DescribeGroups answers a KIP-848 (`consumer` protocol) group as dead and memberless; its
    // listing still tells whether anyone is in it, though not who.
    const listed = (await translating({ group: groupId }, () => this.#admin.listGroups({ types: ['consumer'] }))).get(groupId);
    if (listed === undefined || /^(empty|dead)$/i.test(String(listed.state))) return [];
    return [{ memberId: 'unknown', clientId: `members of a consumer-protocol group in state ${listed.state} (not listed by DescribeGroups)`, host: 'unknown' }];
  }

  async maxMessageBytes(topic: string): Promise<number> {
    try {
      return await this.#config(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes');
    } catch {
      const { brokers } = await translating({ topic }, () => this.#admin.metadata({ topics: [] }));
      const [brokerId] = brokers.keys();
      if (brokerId === undefined) throw new StreamError('SERVICE_UNAVAILABLE', 'the cluster metadata lists no broker', { retriable: true, context: { topic } });
      return this.#config(ConfigResourceTypes.BROKER, String(brokerId), 'message.max.bytes');
    }
  }

  async #config(resourceType: (typeof ConfigResourceTypes)['TOPIC' | 'BROKER'], resourceName: string, name: string): Promise<number> {
    const [described] = await translating({ resourceName }, () => this.#admin.describeConfigs({ resources: [{ resourceType, resourceName, configurationKeys: [name] }] }));
    const value = Number(described?.configs.find((config) => config.name === name)?.value);
    if (!Number.isSafeInteger(value) || value <= 0) throw new StreamError('REQUEST_REFUSED', `${name} of ${resourceName} is not readable`, { context: { resourceName } });
    return value;
  }

  async close(): Promise<void> {
    await translating({}, () => this.#admin.close());
  }
}
