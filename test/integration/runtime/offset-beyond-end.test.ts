/**
 * The database kept its offsets but the topic was recreated (or the broker's data wiped): the
 * partition whose stored offset lies beyond the topic's end waits, with one line naming both
 * offsets and the reset command, while the other partitions run; once the offset is reset it
 * proceeds by itself, without a restart. Real broker, real PostgreSQL.
 */
import { describe, expect, it } from '@jest/globals';
import { startProcessor } from '../../../app/processor-app.ts';
import { parseResetFlags, resetOffsets } from '../../../app/reset-command.ts';
import { loadConfig } from '../../../core/config.ts';
import type { TopicPartition } from '../../../kafka/port.ts';
import { claimPartitions, commitOffset, releasePartitions } from '../../../state/offset-store.ts';
import { resetCommandFor } from '../../../streams/processor.ts';
import { StreamRuntime } from '../../../topology/runtime/stream-runtime.ts';
import type { BatchCommittedEvent, PartitionBounds, RuntimeEvent } from '../../../topology/runtime/types.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase } from '../../support/database.ts';
import { uniqueName, waitFor } from '../../support/kafka.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import { FAST_GROUP_TIMING, forwardingTopology, produceSequenced } from '../../support/runtime.ts';

describe.each(['platformatic', 'kafkajs'] as const)('a database offset beyond the topic\'s end (%s)', (clientName) => {
  const broker = useBroker(clientName);

  it('waits on that partition with one line, runs the others, and proceeds by itself after a reset', async () => {
    const db = await createTestDatabase(`beyond_end_${clientName}`);
    const topic = await broker.topics.create('beyond-end', 3);
    const group = uniqueName('beyond-end-group');
    await produceSequenced(broker.producer, topic, { partitions: 3, perPartition: 20 });
    // The database remembers a far longer topic for partition 1.
    await claimPartitions(db.sequelize, group, 'old-replica', [{ topic, partition: 1 }], 143_645n);

    const logger = memoryLogger();
    const consumer = broker.client.groupConsumer({ groupId: group, topics: [topic], ...FAST_GROUP_TIMING });
    const runtime = new StreamRuntime({
      topology: forwardingTopology(topic),
      consumer,
      claimer: {
        claim: (partitions) => claimPartitions(db.sequelize, group, 'replica-1', partitions),
        release: (claims) => releasePartitions(db.sequelize, group, 'replica-1', claims),
      },
      committer: {
        commit: (batch) =>
          db.sequelize.transaction((transaction) =>
            commitOffset(transaction, { group, topic: batch.topic, partition: batch.partition, epoch: BigInt(batch.epoch), expectedNextOffset: batch.expectedNextOffset, nextOffset: batch.nextOffset }),
          ),
      },
      config: { batchMaxRecords: 50, commitIntervalMs: 20, maxInflightPerPartition: 5_000, maxInflightTotal: 50_000 },
      logger,
      commitToKafka: false,
      offsetCheckIntervalMs: 500,
      partitionBounds: async (partitions: TopicPartition[]): Promise<PartitionBounds[]> => {
        const [starts, ends] = await Promise.all([broker.admin.listOffsets(topic, 'earliest'), broker.admin.listOffsets(topic, 'latest')]);
        return partitions.map((tp) => ({ ...tp, logStartOffset: starts.get(tp.partition)!, logEndOffset: ends.get(tp.partition)! }));
      },
      resetCommand: (tp) => resetCommandFor(group, tp),
    });
    const events: RuntimeEvent[] = [];
    runtime.events$.subscribe((event) => events.push(event));
    const committedTo = (partition: number) =>
      events.filter((event): event is BatchCommittedEvent => event.type === 'batch-committed' && event.partition === partition).at(-1)?.nextOffset;
    try {
      await runtime.start();
      await waitFor(() => committedTo(0) === 20n && committedTo(2) === 20n, { timeoutMs: 30_000, message: 'partitions 0 and 2 processed' });
      await waitFor(() => runtime.stats().waiting.length === 1, { message: 'partition 1 waiting' });
      const [waiting] = runtime.stats().waiting;
      expect(waiting).toMatchObject({ topic, partition: 1 });
      expect(waiting!.reason).toContain(`database offset 143645 is beyond the end offset 20 of ${topic} partition 1`);
      expect(runtime.stats().partitions.map((partition) => partition.partition).sort()).toEqual([0, 2]);

      // Re-checked periodically, reported once.
      await waitFor(() => events.filter((event) => event.type === 'partition-waiting').length >= 3, { message: 're-checks' });
      const lines = logger.lines.filter((line) => line.message.includes('beyond the end offset'));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.message).toContain(`To continue run: npm run topology -- reset --group ${group} --topic ${topic} --partitions 1 --to-earliest --force`);
      expect(runtime.stats().running).toBe(true);

      // The operator runs the command the line named (its flags, parsed the same way).
      const report = await resetOffsets(
        { sequelize: db.sequelize, admin: broker.admin },
        parseResetFlags({ group, topic, partitions: '1', 'to-earliest': 'true', force: 'true' }),
      );
      expect(report.outcome).toBe('rewritten');
      await waitFor(() => committedTo(1) === 20n, { timeoutMs: 30_000, message: 'partition 1 processed after the reset' });
      expect(runtime.stats().waiting).toEqual([]);
      const firstBatch = events.find((event): event is BatchCommittedEvent => event.type === 'batch-committed' && event.partition === 1);
      expect(firstBatch).toMatchObject({ firstOffset: 0n });
    } finally {
      await runtime.stop({ timeoutMs: 10_000 });
      await db.drop();
    }
  });
});

describe('the processor role checks its database offsets against the topic', () => {
  const broker = useBroker('platformatic');

  it('names the partition, both offsets and the reset command in one line, and keeps the others running', async () => {
    const db = await createTestDatabase('beyond_end_processor');
    const ordersTopic = await broker.topics.create('beyond-end-orders', 2);
    const group = uniqueName('beyond-end-processor');
    await claimPartitions(db.sequelize, group, 'old-replica', [{ topic: ordersTopic, partition: 0 }], 143_645n);
    // The topology reads the two command topics too: topics of this test's own, so no other test's records land here.
    const commands = { RESTOCK_COMMANDS_TOPIC: await broker.topics.create('beyond-end-restocks', 2), CANCEL_COMMANDS_TOPIC: await broker.topics.create('beyond-end-cancels', 2) };
    const config = loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: ordersTopic, CONSUMER_GROUP: group, ...commands }, {});
    const logger = memoryLogger();
    const processor = await startProcessor(config, { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger });
    try {
      const ofOrders = <T extends { topic: string }>(partitions: T[]) => partitions.filter((partition) => partition.topic === ordersTopic);
      await waitFor(() => ofOrders(processor.runtime.stats().waiting).length === 1 && ofOrders(processor.runtime.stats().partitions).length === 1, {
        timeoutMs: 30_000,
        message: 'orders partition 0 waiting, 1 running',
      });
      expect(ofOrders(processor.runtime.stats().partitions)[0]).toMatchObject({ partition: 1 });
      const lines = logger.lines.filter((line) => line.message.includes('beyond the end offset'));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.level).toBe('error');
      expect(lines[0]!.message).toBe(
        `${ordersTopic}[0]: database offset 143645 is beyond the end offset 0 of ${ordersTopic} partition 0 (topic recreated or broker data wiped?); ` +
          `waiting, re-checked every 10 s. To continue run: npm run topology -- reset --group ${group} --topic ${ordersTopic} --partitions 0 --to-earliest --force`,
      );
    } finally {
      await processor.stop();
      await db.drop();
    }
  });
});
