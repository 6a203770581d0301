/**
 * Fetches explicit partitions from explicit offsets with @platformatic/kafka's low-level
 * `Consumer.fetch`, outside any group. Its `MessagesStream` cannot do this: a stream fetches
 * every partition the group assigned and has no per-partition pause, so both the group
 * consumer and the partition reader drive their own fetch loop on top of this.
 *
 * A dedicated client keeps long-polling fetches off the group member's connections, so a
 * fetch waiting on the broker never delays a heartbeat (the library's streams do the same).
 */
import { Consumer, FetchIsolationLevels, type fetchV17, findErrorBy } from '@platformatic/kafka';
import { StreamError } from '../../core/errors.ts';
import type { PartitionOffset } from '../port.ts';
import { translatePlatformaticError, translating } from './errors.ts';
import { type PartitionRecords, toPartitionRecords } from './records.ts';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

export interface FetcherOptions {
  brokers: string[];
  clientId: string;
  /** How long the broker may hold a fetch when there is nothing new. */
  maxWaitMs: number;
  maxBytesPerPartition: number;
  /** Per request to a broker; a first batch larger than that still comes back whole (KIP-74). */
  maxBytesPerRound: number;
}

export interface FetchedPartition extends PartitionRecords {
  topic: string;
  partition: number;
  fetchedFrom: bigint;
}

export interface OutOfRangePartition {
  topic: string;
  partition: number;
  fetchedFrom: bigint;
  logStartOffset: bigint;
  highWatermark: bigint;
}

export interface FetchRound {
  fetched: FetchedPartition[];
  outOfRange: OutOfRangePartition[];
}

const OFFSET_OUT_OF_RANGE_CODE = 1;

export class PartitionFetcher {
  readonly #client: Consumer;
  readonly #options: FetcherOptions;
  readonly #trackedTopics = new Set<string>();
  /** A round failed: the leaders the client has cached may be wrong (a broker died, leadership moved). */
  #leadersSuspect = false;

  constructor(options: FetcherOptions) {
    this.#options = options;
    // groupId is mandatory for a Consumer; this one never joins it.
    this.#client = new Consumer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      groupId: `${options.clientId}.fetcher`,
      autocommit: false,
      maxWaitTime: options.maxWaitMs,
      // The fetch loop retries with backoff itself; the client's own retry would also hold
      // close() for a full retry delay when it cuts a long poll short.
      retries: 0,
    });
  }

  /** One fetch of every given partition from its given offset, one request per leader broker. */
  async fetch(positions: PartitionOffset[]): Promise<FetchRound> {
    const topics = [...new Set(positions.map((position) => position.topic))];
    this.#track(topics);
    // After a failed round the cached leaders may be the broker that just died: ask again, or
    // the next rounds keep knocking on it until the 5 s metadata cache expires.
    const metadata = await translating({ topics }, () => this.#client.metadata({ topics, ...(this.#leadersSuspect ? { forceUpdate: true } : {}) }));
    this.#leadersSuspect = false;
    const requests = new Map<number, Map<string, FetchRequestTopic>>();
    const topicNames = new Map<string, string>();
    const requested = new Map<string, bigint>();
    for (const { topic, partition, offset } of positions) {
      const topicMetadata = metadata.topics.get(topic);
      const leader = topicMetadata?.partitions[partition]?.leader;
      if (topicMetadata === undefined || leader === undefined) {
        throw new StreamError('SERVICE_UNAVAILABLE', `no leader known for ${topic}[${partition}]`, { retriable: true, context: { topic, partition } });
      }
      topicNames.set(topicMetadata.id, topic);
      requested.set(`${topic}:${partition}`, offset);
      const byTopic = getOrCreate(requests, leader, () => new Map<string, FetchRequestTopic>());
      const request = getOrCreate(byTopic, topicMetadata.id, () => ({ topicId: topicMetadata.id, partitions: [] }));
      request.partitions.push({
        partition,
        fetchOffset: offset,
        partitionMaxBytes: this.#options.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
    }

    const rounds = await Promise.all(
      [...requests].map(([node, byTopic]) => this.#fetchFromNode(node, [...byTopic.values()], topicNames, requested)),
    ).catch((error: unknown) => {
      this.#leadersSuspect = true;
      throw error;
    });
    return { fetched: rounds.flatMap((round) => round.fetched), outOfRange: rounds.flatMap((round) => round.outOfRange) };
  }

  async close(): Promise<void> {
    await translating({}, () => this.#client.close());
  }

  async #fetchFromNode(
    node: number,
    topics: FetchRequestTopic[],
    topicNames: Map<string, string>,
    requested: Map<string, bigint>,
  ): Promise<FetchRound> {
    let response: FetchResponse;
    try {
      response = await this.#client.fetch({
        node,
        topics,
        minBytes: 1,
        maxBytes: this.#options.maxBytesPerRound,
        maxWaitTime: this.#options.maxWaitMs,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
    } catch (error) {
      const outOfRange = outOfRangePartitions(error, topicNames, requested);
      if (outOfRange.length === 0) throw translatePlatformaticError(error, { broker: node, topics: topics.map((topic) => topicNames.get(topic.topicId)) });
      return { fetched: [], outOfRange };
    }
    const fetched: FetchedPartition[] = [];
    for (const topicResponse of response.responses) {
      const topic = topicNames.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partitionResponse of topicResponse.partitions) {
        const fetchedFrom = requested.get(`${topic}:${partitionResponse.partitionIndex}`);
        // An incremental fetch session may answer for partitions not asked for this time.
        if (fetchedFrom === undefined || partitionResponse.errorCode !== 0) continue;
        const records = toPartitionRecords(topic, partitionResponse.partitionIndex, fetchedFrom, partitionResponse.records ?? []);
        fetched.push({ topic, partition: partitionResponse.partitionIndex, fetchedFrom, ...records });
      }
    }
    return { fetched, outOfRange: [] };
  }

  #track(topics: string[]): void {
    // Keeps the client's metadata requests limited to the topics being read.
    for (const topic of topics) {
      if (this.#trackedTopics.has(topic)) continue;
      this.#trackedTopics.add(topic);
      this.#client.topics.track(topic);
    }
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function outOfRangePartitions(error: unknown, topicNames: Map<string, string>, requested: Map<string, bigint>): OutOfRangePartition[] {
  if (!(error instanceof Error) || !findErrorBy(error, 'apiId', 'OFFSET_OUT_OF_RANGE')) return [];
  const response = (error as { response?: FetchResponse }).response;
  if (!response) return [];
  const result: OutOfRangePartition[] = [];
  for (const topicResponse of response.responses) {
    const topic = topicNames.get(topicResponse.topicId);
    if (topic === undefined) continue;
    for (const partitionResponse of topicResponse.partitions) {
      const fetchedFrom = requested.get(`${topic}:${partitionResponse.partitionIndex}`);
      if (fetchedFrom === undefined || partitionResponse.errorCode !== OFFSET_OUT_OF_RANGE_CODE) continue;
      result.push({
        topic,
        partition: partitionResponse.partitionIndex,
        fetchedFrom,
        logStartOffset: partitionResponse.logStartOffset,
        highWatermark: partitionResponse.highWatermark,
      });
    }
  }
  return result;
}
