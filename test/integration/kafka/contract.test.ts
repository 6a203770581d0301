/**
 * One contract, two adapters: every behaviour the runtime relies on, checked against the
 * real broker for @platformatic/kafka and for kafkajs alike.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaClientName, KafkaGroupProtocol } from '../../../core/config.ts';
import { StreamError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import { type GroupConsumer, type GroupConsumerOptions, type GroupHandlers, type KafkaAdmin, type KafkaClient, type KafkaProducer, OffsetOutOfRangeError, type PartitionOffset, type RecordBatch, type TopicPartition } from '../../../kafka/port.ts';
import { SendRefusedError } from '../../../kafka/send-refused.ts';
import { javaPartition } from '../../support/java-partitions.ts';
import { BatchCollector, brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';
import { freePorts } from '../operations/ports.ts';

const CLIENTS: KafkaClientName[] = ['platformatic', 'kafkajs'];
const GROUP_TIMING = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 10_000 };

interface ContractCase {
  clientName: KafkaClientName;
  groupProtocol: KafkaGroupProtocol;
}

// KIP-848 (`consumer`) only changes group membership, so that case runs only the membership tests.
const CASES: ContractCase[] = [
  { clientName: 'platformatic', groupProtocol: 'classic' },
  { clientName: 'kafkajs', groupProtocol: 'classic' },
  { clientName: 'platformatic', groupProtocol: 'consumer' },
];
// Under KIP-848 assignments travel on heartbeats, whose interval the broker sets (5 s at least).
const MEMBERSHIP_TIMEOUT_MS = 45_000;

interface RecordingMember {
  consumer: GroupConsumer;
  assigned: TopicPartition[][];
  revoked: TopicPartition[][];
  errors: unknown[];
  collected: BatchCollector;
}

describe.each(CASES)('Kafka client contract: $clientName, $groupProtocol group protocol', ({ clientName, groupProtocol }) => {
  const otherName = CLIENTS.find((name) => name !== clientName)!;
  const protocolIndependent = groupProtocol === 'classic';
  const describeProtocolIndependent = protocolIndependent ? describe : describe.skip;
  const itProtocolIndependent = protocolIndependent ? it : it.skip;
  let client: KafkaClient;
  let admin: KafkaAdmin;
  let topics: TopicPool;
  let producer: KafkaProducer;
  const toClose: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    client = createKafkaClient({ kafkaClient: clientName, kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await client.admin();
    topics = new TopicPool(admin);
    producer = await client.producer();
  });

  afterEach(async () => {
    for (const resource of toClose.splice(0).reverse()) await resource.close();
  });

  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
  });

  function member(topic: string, groupId: string, options: Pick<GroupConsumerOptions, 'fetchMaxBytes'> = {}): RecordingMember {
    const consumer = client.groupConsumer({ groupId, topics: [topic], ...GROUP_TIMING, groupProtocol, ...options });
    toClose.push(consumer);
    return { consumer, assigned: [], revoked: [], errors: [], collected: new BatchCollector() };
  }

  function handlersOf(recording: RecordingMember, startAt: (tp: TopicPartition) => bigint | undefined): GroupHandlers {
    return {
      onAssigned: async (partitions) => {
        recording.assigned.push(partitions);
        return partitions.flatMap((tp): PartitionOffset[] => {
          const offset = startAt(tp);
          return offset === undefined ? [] : [{ ...tp, offset }];
        });
      },
      onRevoked: (partitions) => {
        recording.revoked.push(partitions);
      },
      onBatch: recording.collected.onBatch,
      onError: (error) => {
        recording.errors.push(error);
      },
    };
  }

  async function startMember(
    topic: string,
    groupId: string,
    startAt: (tp: TopicPartition) => bigint | undefined,
    options: Pick<GroupConsumerOptions, 'fetchMaxBytes'> = {},
  ): Promise<RecordingMember> {
    const recording = member(topic, groupId, options);
    await recording.consumer.start(handlersOf(recording, startAt));
    return recording;
  }

  async function produceToPartitions(topic: string, perPartition: number[], tag = 'v'): Promise<void> {
    await producer.send(
      perPartition.flatMap((count, partition) =>
        Array.from({ length: count }, (_, i) => ({ topic, partition, key: `p${partition}-${i}`, value: `${tag}-${partition}-${i}` })),
      ),
    );
  }

  function expectContiguousFrom(batches: RecordBatch[], partition: number, first: bigint, count: number): void {
    const offsets = batches.filter((batch) => batch.partition === partition).flatMap((batch) => batch.records.map((record) => record.offset));
    expect(offsets).toEqual(Array.from({ length: count }, (_, i) => first + BigInt(i)));
  }

  describeProtocolIndependent('admin', () => {
    it('creates topics idempotently and reports their partition count', async () => {
      const topic = await topics.create(`${clientName}-admin`, 3);
      await admin.createTopics([{ topic, partitions: 3 }]);
      await admin.createTopics([{ topic, partitions: 5 }]);

      expect(await admin.partitionCount(topic)).toBe(3);
      expect(await admin.listTopics()).toContain(topic);
      expect(await admin.partitionCount(uniqueName('missing'))).toBeUndefined();
    });

    it('reports the high watermark of each partition after producing', async () => {
      const topic = await topics.create(`${clientName}-hw`, 3);
      expect(await admin.highWatermarks(topic)).toEqual(new Map([[0, 0n], [1, 0n], [2, 0n]]));

      await produceToPartitions(topic, [3, 0, 2]);

      expect(await admin.highWatermarks(topic)).toEqual(new Map([[0, 3n], [1, 0n], [2, 2n]]));
    });

    it('lists the earliest, latest and by-timestamp offsets of each partition', async () => {
      const topic = await topics.create(`${clientName}-offsets`, 2);
      await produceToPartitions(topic, [3, 1]);
      const between = Date.now() + 1;
      await waitFor(() => Date.now() > between + 5, { message: 'a later timestamp' });
      await produceToPartitions(topic, [2, 0]);

      expect(await admin.listOffsets(topic, 'earliest')).toEqual(new Map([[0, 0n], [1, 0n]]));
      expect(await admin.listOffsets(topic, 'latest')).toEqual(new Map([[0, 5n], [1, 1n]]));
      // Partition 1 has no record that recent: the log end.
      expect(await admin.listOffsets(topic, { timestamp: between })).toEqual(new Map([[0, 3n], [1, 1n]]));
      expect(await admin.listOffsets(topic, { timestamp: 0 })).toEqual(new Map([[0, 0n], [1, 0n]]));
    });

    it('names the members of a consumer group, and none once they left', async () => {
      const topic = await topics.create(`${clientName}-members`, 1);
      const groupId = uniqueName(`${clientName}-members`);
      expect(await admin.groupMembers(groupId)).toEqual([]);
      const recording = await startMember(topic, groupId, () => 0n);
      await waitFor(() => recording.assigned.length > 0, { message: 'assignment' });
      const members = await waitFor(async () => {
        const found = await admin.groupMembers(groupId);
        return found.length > 0 ? found : undefined;
      }, { message: 'a member listed' });
      expect(members).toEqual([expect.objectContaining({ clientId: expect.any(String), host: expect.any(String), memberId: expect.any(String) })]);
      await recording.consumer.close();
      await waitFor(async () => (await admin.groupMembers(groupId)).length === 0, { message: 'the member gone' });
    });

    it('counts the members of a consumer-protocol (KIP-848) group, which DescribeGroups does not list', async () => {
      const topic = await topics.create(`${clientName}-kip848-members`, 1);
      const groupId = uniqueName(`${clientName}-kip848-members`);
      // The member joins with platformatic: kafkajs has no KIP-848 support; the admin under test lists it.
      const joiner = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
      const consumer = joiner.groupConsumer({ groupId, topics: [topic], groupProtocol: 'consumer', clientId: 'kip848-member' });
      toClose.push(consumer);
      let assigned = false;
      await consumer.start({ onAssigned: async () => { assigned = true; return []; }, onRevoked: () => {}, onBatch: () => {}, onError: () => {} });
      await waitFor(() => assigned, { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'the KIP-848 member assigned' });
      expect(await admin.groupMembers(groupId)).toHaveLength(1);
    });

    it("reads a topic's max.message.bytes, and the broker's message.max.bytes for a topic it cannot describe", async () => {
      const topic = await topics.create(`${clientName}-limit`, 1, { config: { 'max.message.bytes': '54321' } });
      expect(await admin.maxMessageBytes(topic)).toBe(54_321);
      // The broker default (1 MiB + 12 unless the cluster says otherwise): positive, and not the topic's.
      const brokerLimit = await admin.maxMessageBytes(uniqueName('missing'));
      expect(brokerLimit).toBeGreaterThan(0);
      expect(brokerLimit).not.toBe(54_321);
    });

    it('deletes topics', async () => {
      const topic = uniqueName(`${clientName}-delete`);
      await admin.createTopics([{ topic, partitions: 1 }]);
      await admin.deleteTopics([topic]);
      await waitFor(async () => !(await admin.listTopics()).includes(topic), { message: `${topic} to disappear` });
    });
  });

  describeProtocolIndependent('producer', () => {
    it(`puts a key on the same partition as ${otherName} and as Java's murmur2`, async () => {
      const partitions = 6;
      const topic = await topics.create(`${clientName}-keys`, partitions);
      const keys = Array.from({ length: 40 }, (_, i) => `product-${i}`);
      const other = createKafkaClient({ kafkaClient: otherName, kafkaBrokers: brokersFromEnv() }, silentLogger);
      const otherProducer = await other.producer();
      try {
        await producer.send(keys.map((key) => ({ topic, key, value: clientName })));
        await otherProducer.send(keys.map((key) => ({ topic, key, value: otherName })));
      } finally {
        await otherProducer.close();
      }

      const collected = new BatchCollector();
      const reader = client.partitionReader();
      toClose.push(reader);
      await reader.start(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0n })), collected.onBatch);
      await waitFor(() => collected.records().length === keys.length * 2, { message: 'both producers’ records' });

      const partitionsByKey = new Map<string, Set<number>>();
      for (const record of collected.records()) {
        const key = record.key!.toString('utf8');
        expect([key, record.partition]).toEqual([key, javaPartition(key, partitions)]);
        partitionsByKey.set(key, (partitionsByKey.get(key) ?? new Set()).add(record.partition));
      }
      expect([...partitionsByKey.values()].every((set) => set.size === 1)).toBe(true);
      expect(partitionsByKey.size).toBe(keys.length);
      // 40 keys over 6 partitions: a partitioner that ignored keys would not spread like this by accident.
      expect(new Set(collected.records().map((record) => record.partition)).size).toBeGreaterThan(3);
    });

    it('carries headers and keys through', async () => {
      const topic = await topics.create(`${clientName}-headers`, 1);
      await producer.send([{ topic, key: 'k', value: Buffer.from([0, 1, 2]), headers: { 'event-type': 'OrderCreated', 'event-id': 'e-1' } }]);

      const collected = new BatchCollector();
      const reader = client.partitionReader();
      toClose.push(reader);
      await reader.start([{ topic, partition: 0, offset: 0n }], collected.onBatch);
      const [record] = await waitFor(() => (collected.records().length === 1 ? collected.records() : undefined), { message: 'the record' });

      expect(record).toMatchObject({ topic, partition: 0, offset: 0n, headers: { 'event-type': 'OrderCreated', 'event-id': 'e-1' } });
      expect(record!.key?.toString()).toBe('k');
      expect(record!.value).toEqual(Buffer.from([0, 1, 2]));
      expect(Math.abs(record!.timestamp - Date.now())).toBeLessThan(60_000);
    });
  });

  describeProtocolIndependent('producer refusals', () => {
    it('refuses a record above the topic limit as SendRefusedError (too large), and keeps producing', async () => {
      const topic = await topics.create(`${clientName}-too-large`, 1, { config: { 'max.message.bytes': '2000' } });
      const refusal = await producer.send([{ topic, key: 'k', value: Buffer.alloc(3000) }]).then(() => undefined, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(SendRefusedError);
      expect(refusal).toMatchObject({ reason: 'MESSAGE_TOO_LARGE', tooLarge: true, retriable: false });
      await producer.send([{ topic, key: 'k', value: 'small' }]);
      expect(await admin.highWatermarks(topic)).toEqual(new Map([[0, 1n]]));
    });

    it('refuses an invalid record (no key on a compacted topic) as SendRefusedError, not too large', async () => {
      const topic = await topics.create(`${clientName}-invalid`, 1, { config: { 'cleanup.policy': 'compact' } });
      const refusal = await producer.send([{ topic, key: null, value: 'no key' }]).then(() => undefined, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(SendRefusedError);
      expect(refusal).toMatchObject({ reason: 'INVALID_RECORD', tooLarge: false });
    });
  });

  describeProtocolIndependent('errors', () => {
    it('rejects with a retriable StreamError when the broker cannot be reached', async () => {
      const unreachable = createKafkaClient({ kafkaClient: clientName, kafkaBrokers: [`127.0.0.1:${await freePorts()}`] }, silentLogger);
      let opened: KafkaAdmin | undefined;
      // kafkajs connects in admin(), @platformatic/kafka on the first request: either may reject.
      const failure = await unreachable
        .admin()
        .then((unreachableAdmin) => {
          opened = unreachableAdmin;
          return unreachableAdmin.listTopics();
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      await opened?.close();
      expect(failure).toBeInstanceOf(StreamError);
      expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true, cause: expect.anything() });
    });

    it('rejects a refused request (a topic config the broker does not accept) with a StreamError that is not retriable', async () => {
      const topic = uniqueName(`${clientName}-bad-config`);
      const failure = await admin.createTopics([{ topic, partitions: 1, config: { 'cleanup.policy': 'nonsense' } }]).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StreamError);
      expect(failure).toMatchObject({ code: 'REQUEST_REFUSED', retriable: false, context: { topic }, cause: expect.anything() });
      expect(await admin.listTopics()).not.toContain(topic);
    });
  });

  describeProtocolIndependent('partition reader', () => {
    it('reads each partition from its explicit offset, in order', async () => {
      const topic = await topics.create(`${clientName}-reader`, 2);
      await produceToPartitions(topic, [10, 5]);

      const collected = new BatchCollector();
      const reader = client.partitionReader();
      toClose.push(reader);
      await reader.start([{ topic, partition: 0, offset: 4n }, { topic, partition: 1, offset: 0n }], collected.onBatch);
      await waitFor(() => collected.records(0).length === 6 && collected.records(1).length === 5, { message: 'records from both partitions' });

      expectContiguousFrom(collected.batches, 0, 4n, 6);
      expectContiguousFrom(collected.batches, 1, 0n, 5);
      expect(collected.values(0)[0]).toBe('v-0-4');
    });

    it('keeps reading records produced after it started', async () => {
      const topic = await topics.create(`${clientName}-reader-live`, 1);
      const collected = new BatchCollector();
      const reader = client.partitionReader();
      toClose.push(reader);
      await reader.start([{ topic, partition: 0, offset: 0n }], collected.onBatch);

      await produceToPartitions(topic, [3]);
      await waitFor(() => collected.records().length === 3, { message: 'live records' });
      expectContiguousFrom(collected.batches, 0, 0n, 3);
    });
  });

  describe('group consumer', () => {
    it('starts each assigned partition at the offset onAssigned returned', async () => {
      const topic = await topics.create(`${clientName}-start`, 3);
      await produceToPartitions(topic, [5, 5, 5]);

      const recording = await startMember(topic, uniqueName(`${clientName}-start`), (tp) => BigInt(tp.partition + 1));
      await waitFor(() => [0, 1, 2].every((p) => recording.collected.records(p).length === 5 - (p + 1)), { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'records from every partition' });

      expect(recording.assigned.flat().map((tp) => tp.partition).sort()).toEqual([0, 1, 2]);
      for (const partition of [0, 1, 2]) expectContiguousFrom(recording.collected.batches, partition, BigInt(partition + 1), 4 - partition);
      expect(recording.collected.batches.every((batch) => batch.topic === topic && batch.records.every((r) => r.partition === batch.partition))).toBe(true);
      expect(recording.consumer.assignment()).toEqual([0, 1, 2].map((partition) => ({ topic, partition })));
      expect(recording.errors).toEqual([]);
    });

    itProtocolIndependent('never delivers a record before the start offset, even when Kafka has a later committed offset', async () => {
      const topic = await topics.create(`${clientName}-commit`, 1);
      const groupId = uniqueName(`${clientName}-commit`);
      await produceToPartitions(topic, [6]);
      const first = await startMember(topic, groupId, () => 0n);
      await waitFor(() => first.collected.records().length === 6, { message: 'first run' });
      await first.consumer.commitOffsets([{ topic, partition: 0, offset: 5n }]);
      await first.consumer.close();

      // The database (onAssigned) says 2, Kafka's committed offset says 5: 2 wins.
      const second = await startMember(topic, groupId, () => 2n);
      await waitFor(() => second.collected.records().length === 4, { message: 'records from offset 2' });
      expectContiguousFrom(second.collected.batches, 0, 2n, 4);
    });

    itProtocolIndependent('seek moves a started partition back, again and again, and starts one onAssigned left without an offset', async () => {
      const topic = await topics.create(`${clientName}-seek`, 2);
      await produceToPartitions(topic, [6, 4]);
      // Partition 1 gets no start offset: it is not read until a seek says where.
      const recording = await startMember(topic, uniqueName(`${clientName}-seek`), (tp) => (tp.partition === 0 ? 0n : undefined));
      await waitFor(() => recording.collected.records(0).length === 6, { message: 'partition 0 read' });
      expect(recording.collected.records(1)).toEqual([]);

      recording.consumer.seek([{ topic, partition: 0, offset: 2n }, { topic, partition: 1, offset: 3n }]);
      await waitFor(() => recording.collected.records(0).length === 10 && recording.collected.records(1).length === 1, { message: 'records after the seek' });
      expect(recording.collected.records(0).map((record) => record.offset)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 2n, 3n, 4n, 5n]);
      expect(recording.collected.records(1).map((record) => record.offset)).toEqual([3n]);

        recording.consumer.seek([{ topic, partition: 0, offset: 5n }]);
      await produceToPartitions(topic, [1, 0], 'late');
      await waitFor(() => recording.collected.records(0).length === 12, { message: 'records after the second seek' });
      expect(recording.collected.records(0).slice(10).map((record) => record.offset)).toEqual([5n, 6n]);
      expect(recording.errors).toEqual([]);
    });

    itProtocolIndependent('reports a position beyond the log end as OffsetOutOfRangeError, stops reading that partition, and reads again after a seek', async () => {
      const topic = await topics.create(`${clientName}-beyond`, 2);
      await produceToPartitions(topic, [3, 3]);
      const recording = await startMember(topic, uniqueName(`${clientName}-beyond`), (tp) => (tp.partition === 0 ? 100n : 0n));
      await waitFor(() => recording.collected.records(1).length === 3, { message: 'partition 1 read' });
      // kafkajs moves to the log end by itself and tells nothing until a record arrives there.
      await produceToPartitions(topic, [2, 0], 'more');
      const error = await waitFor(() => recording.errors.find((candidate) => candidate instanceof OffsetOutOfRangeError), { message: 'out-of-range report' });
      expect(error).toMatchObject({ topic, partition: 0, offset: 100n });
      await produceToPartitions(topic, [1, 0], 'even-more');
      // A marker written after those records, read on the other partition: the member fetched again since.
      await produceToPartitions(topic, [0, 1], 'marker');
      await waitFor(() => recording.collected.records(1).length === 4, { message: 'the marker on partition 1' });
      // Reported once, not once per fetch.
      expect(recording.errors.filter((candidate) => candidate instanceof OffsetOutOfRangeError)).toHaveLength(1);
      expect(recording.collected.records(0)).toEqual([]);

      recording.consumer.seek([{ topic, partition: 0, offset: 1n }]);
      await waitFor(() => recording.collected.records(0).length === 5, { message: 'partition 0 read after the seek' });
      expect(recording.collected.records(0).map((record) => record.offset)).toEqual([1n, 2n, 3n, 4n, 5n]);
    });

    itProtocolIndependent('fetches at most fetchMaxBytes of records at once, from every partition in turn, and reads each one to its end', async () => {
      const topic = await topics.create(`${clientName}-fetch-bytes`, 4);
      // 40 producer batches of 10 records of 1 KiB per partition: 400 KiB each, 1.6 MiB in all.
      const value = 'x'.repeat(1_024);
      for (let chunk = 0; chunk < 40; chunk++) {
        await producer.send([0, 1, 2, 3].flatMap((partition) => Array.from({ length: 10 }, (_, i) => ({ topic, partition, key: `k${chunk}-${i}`, value }))));
      }
      const fetchMaxBytes = 32 * 1_024;
      const recording = await startMember(topic, uniqueName(`${clientName}-fetch-bytes`), () => 0n, { fetchMaxBytes });
      await waitFor(() => recording.collected.records().length === 1_600, { timeoutMs: 60_000, message: 'every record' });

      for (const partition of [0, 1, 2, 3]) expectContiguousFrom(recording.collected.batches, partition, 0n, 400);
      // A fetch returns whole producer batches (~10 KiB here) up to the limit: without it one
      // partition alone would come back 256 KiB (platformatic) or 400 KiB (kafkajs) at a time.
      const largest = Math.max(...recording.collected.batches.map((batch) => batch.records.reduce((sum, record) => sum + (record.value?.length ?? 0), 0)));
      expect(largest).toBeLessThanOrEqual(fetchMaxBytes);
      // No partition waits for another to be drained: every one is served before any is done.
      const { batches } = recording.collected;
      const firstDelivery = [0, 1, 2, 3].map((partition) => batches.findIndex((batch) => batch.partition === partition));
      const firstDrained = Math.min(...[0, 1, 2, 3].map((partition) => batches.findIndex((batch) => batch.partition === partition && batch.records.at(-1)?.offset === 399n)));
      expect(Math.max(...firstDelivery)).toBeLessThan(firstDrained);
      expect(recording.errors).toEqual([]);
    });

    it('hands partitions to a second member that joins; the first keeps reading the rest without gaps or repeats', async () => {
      const topic = await topics.create(`${clientName}-rebalance`, 4);
      const groupId = uniqueName(`${clientName}-rebalance`);
      const first = await startMember(topic, groupId, () => 0n);
      await produceToPartitions(topic, [2, 2, 2, 2], 'before');
      await waitFor(() => first.collected.records().length === 8, { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'first member to read every partition' });
      // Kafka's committed offset lags behind what was read: a client restarting retained
      // partitions from it would deliver offset 1 again.
      await first.consumer.commitOffsets([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 1n })));

      const second = await startMember(topic, groupId, () => 0n);
      await waitFor(
        () => first.consumer.assignment().length > 0 && second.consumer.assignment().length > 0 && first.consumer.assignment().length + second.consumer.assignment().length === 4,
        { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'partitions to be split between the two members' },
      );

      const firstOwns = first.consumer.assignment().map((tp) => tp.partition);
      const secondOwns = second.consumer.assignment().map((tp) => tp.partition);
      expect([...firstOwns, ...secondOwns].sort()).toEqual([0, 1, 2, 3]);
      expect(first.revoked.flat().map((tp) => tp.partition)).toEqual(expect.arrayContaining(secondOwns));
      expect(second.assigned.flat().map((tp) => tp.partition).sort()).toEqual([...secondOwns].sort());

      await produceToPartitions(topic, [1, 1, 1, 1], 'after');
      await waitFor(() => secondOwns.every((p) => second.collected.records(p).length === 3), { message: 'second member to read its partitions' });
      await waitFor(() => firstOwns.every((p) => first.collected.records(p).length === 3), { message: 'first member to read the new records' });
      for (const partition of firstOwns) expectContiguousFrom(first.collected.batches, partition, 0n, 3);
      for (const partition of secondOwns) expectContiguousFrom(second.collected.batches, partition, 0n, 3);
      expect(first.collected.records().filter((record) => secondOwns.includes(record.partition) && record.offset >= 2n)).toEqual([]);
      expect([...first.errors, ...second.errors]).toEqual([]);
    });

    it('revokes from the first member only the partitions a joining member takes; the ones it keeps are never reported revoked', async () => {
      const partitions = [0, 1, 2, 3, 4, 5];
      const topic = await topics.create(`${clientName}-keep`, partitions.length);
      const groupId = uniqueName(`${clientName}-keep`);
      const first = await startMember(topic, groupId, () => 0n);
      await produceToPartitions(topic, partitions.map(() => 1), 'before');
      await waitFor(() => first.collected.records().length === partitions.length, { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'first member to read every partition' });

      const second = await startMember(topic, groupId, () => 0n);
      await waitFor(
        () => second.consumer.assignment().length > 0 && first.consumer.assignment().length + second.consumer.assignment().length === partitions.length,
        { timeoutMs: MEMBERSHIP_TIMEOUT_MS, message: 'partitions to be split between the two members' },
      );
      const kept = first.consumer.assignment().map((tp) => tp.partition);
      const moved = second.consumer.assignment().map((tp) => tp.partition);
      expect(kept.length).toBeGreaterThan(0);

      // Exactly the moved partitions were revoked, and the kept ones were not handed back through
      // onAssigned (which would restart them from the offset store: a pause in disguise).
      expect(first.revoked.flat().map((tp) => tp.partition).sort()).toEqual([...moved].sort());
      expect(first.assigned.flat().map((tp) => tp.partition).sort()).toEqual(partitions);

      await produceToPartitions(topic, partitions.map(() => 1), 'after');
      await waitFor(() => kept.every((p) => first.collected.records(p).length === 2), { message: 'kept partitions to keep flowing' });
      for (const partition of kept) expectContiguousFrom(first.collected.batches, partition, 0n, 2);
      expect([...first.errors, ...second.errors]).toEqual([]);
    });

    itProtocolIndependent('reads past transaction markers and aborted transactions', async () => {
      const topic = await topics.create(`${clientName}-txn`, 1);
      const recording = await startMember(topic, uniqueName(`${clientName}-txn`), () => 0n);
      // The port's producer is not transactional; another application's may be.
      const transactional = new Kafka({ clientId: uniqueName('txn'), brokers: brokersFromEnv(), logLevel: logLevel.NOTHING }).producer({
        transactionalId: uniqueName('txn'),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await transactional.connect();
      toClose.push({ close: () => transactional.disconnect() });
      const inTransaction = async (values: string[], outcome: 'commit' | 'abort') => {
        const transaction = await transactional.transaction();
        await transaction.send({ topic, messages: values.map((value) => ({ key: 'k', value, partition: 0 })) });
        await transaction[outcome]();
      };

      await inTransaction(['a', 'b'], 'commit'); // offsets 0, 1, marker 2
      await waitFor(() => recording.collected.records().length === 2, { message: 'the committed transaction' });
      await inTransaction(['x', 'y'], 'abort'); // offsets 3, 4, marker 5: nothing to deliver
      await inTransaction(['c', 'd'], 'commit'); // offsets 6, 7, marker 8

      await waitFor(() => recording.collected.records().length === 4, { message: 'the transaction after the aborted one' });
      expect(recording.collected.records().map((record) => [record.offset, record.value?.toString()])).toEqual([
        [0n, 'a'],
        [1n, 'b'],
        [6n, 'c'],
        [7n, 'd'],
      ]);
      expect(recording.errors).toEqual([]);
    });

    itProtocolIndependent('reports a failing onAssigned through onError', async () => {
      const topic = await topics.create(`${clientName}-assign-fails`, 1);
      await produceToPartitions(topic, [2]);
      const recording = member(topic, uniqueName(`${clientName}-assign-fails`));
      const failure = new Error('offset store unavailable');
      await recording.consumer.start({
        ...handlersOf(recording, () => 0n),
        onAssigned: async () => {
          throw failure;
        },
      });

      await waitFor(() => recording.errors.length > 0, { message: 'onError to be called' });
      expect(recording.errors).toEqual([failure]);
      expect(recording.collected.records()).toEqual([]);
    });

    itProtocolIndependent('stops fetching a paused partition and starts again on resume, leaving other partitions flowing', async () => {
      const topic = await topics.create(`${clientName}-pause`, 2);
      const recording = await startMember(topic, uniqueName(`${clientName}-pause`), () => 0n);
      await produceToPartitions(topic, [1, 1], 'before');
      await waitFor(() => recording.collected.records().length === 2, { message: 'records before pausing' });

      recording.consumer.pause([{ topic, partition: 0 }]);
      await produceToPartitions(topic, [2, 2], 'paused');
      await waitFor(() => recording.collected.records(1).length === 3, { message: 'the unpaused partition to keep flowing' });
      // A marker written after the paused partition's records: once it is read, the member has fetched since they were there.
      await produceToPartitions(topic, [0, 1], 'marker');
      await waitFor(() => recording.collected.records(1).length === 4, { message: 'the marker on the unpaused partition' });
      expect(recording.collected.records(0)).toHaveLength(1);

      recording.consumer.resume([{ topic, partition: 0 }]);
      await waitFor(() => recording.collected.records(0).length === 3, { message: 'the resumed partition to flow again' });
      expectContiguousFrom(recording.collected.batches, 0, 0n, 3);
      expect(recording.errors).toEqual([]);
    });
  });
});
