/** Topic administration on @platformatic/kafka. */
import { Admin, ConfigResourceTypes, findErrorBy, ListOffsetTimestamps } from '@platformatic/kafka';
import { BROKER_DEFAULT_REPLICATION_FACTOR, type GroupMemberInfo, type KafkaAdmin, type OffsetSpec, ReplicationFactorError, type TopicSpec } from '../port.ts';

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
        if (refused) throw new ReplicationFactorError(spec.topic, replicas, refused.message);
        throw error;
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
        const metadata = await this.#admin.metadata({ topics, forceUpdate: true });
        if (topics.every((topic) => metadata.topics.get(topic)?.partitions.every((partition) => partition.leader >= 0))) return;
      }
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} not visible ${timeoutMs} ms after creation`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
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
    const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    return metadata.topics.get(topic)?.partitionsCount;
  }

  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    return this.listOffsets(topic, 'latest');
  }

  async listOffsets(topic: string, at: OffsetSpec): Promise<Map<number, bigint>> {
    const count = await this.partitionCount(topic);
    if (count === undefined) throw new Error(`topic ${topic} does not exist`);
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
    const listed = await this.#admin.listOffsets({ topics: [{ name: topic, partitions }] });
    const result = new Map<number, bigint>();
    for (const entry of listed.find((t) => t.name === topic)?.partitions ?? []) result.set(entry.partitionIndex, entry.offset);
    return result;
  }

  async groupMembers(groupId: string): Promise<GroupMemberInfo[]> {
    const groups = await this.#admin.describeGroups({ groups: [groupId] });
    const members = [...(groups.get(groupId)?.members.values() ?? [])];
    if (members.length > 0) return members.map((member) => ({ memberId: member.id, clientId: member.clientId, host: member.clientHost }));
    // DescribeGroups answers a KIP-848 (`consumer` protocol) group as dead and memberless; its
    // listing still tells whether anyone is in it, though not who.
    const listed = (await this.#admin.listGroups({ types: ['consumer'] })).get(groupId);
    if (listed === undefined || /^(empty|dead)$/i.test(String(listed.state))) return [];
    return [{ memberId: 'unknown', clientId: `members of a consumer-protocol group in state ${listed.state} (not listed by DescribeGroups)`, host: 'unknown' }];
  }

  async maxMessageBytes(topic: string): Promise<number> {
    try {
      return await this.#config(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes');
    } catch {
      const { brokers } = await this.#admin.metadata({ topics: [] });
      const [brokerId] = brokers.keys();
      if (brokerId === undefined) throw new Error('the cluster metadata lists no broker');
      return this.#config(ConfigResourceTypes.BROKER, String(brokerId), 'message.max.bytes');
    }
  }

  async #config(resourceType: (typeof ConfigResourceTypes)['TOPIC' | 'BROKER'], resourceName: string, name: string): Promise<number> {
    const [described] = await this.#admin.describeConfigs({ resources: [{ resourceType, resourceName, configurationKeys: [name] }] });
    const value = Number(described?.configs.find((config) => config.name === name)?.value);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} of ${resourceName} is not readable`);
    return value;
  }

  async close(): Promise<void> {
    await this.#admin.close();
  }
}
