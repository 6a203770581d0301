/**
 * The runtime on the real broker, for both Kafka clients: every partition's records are
 * committed in offset order with no gaps or duplicates, and partitions commit in parallel
 * while each partition's commits stay serial.
 */
import { describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../core/config.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { waitFor } from '../../support/kafka.ts';
import {
  MapClaimer,
  maxConcurrency,
  produceSequenced,
  RecordingCommitter,
  sequenceProblems,
  startForwardingRuntime,
} from '../../support/runtime.ts';

const CLIENTS: KafkaClientName[] = ['platformatic', 'kafkajs'];

describe.each(CLIENTS)('StreamRuntime on the real broker: %s', (clientName) => {
  const broker = useBroker(clientName);

  it('commits 100k records over 12 partitions in per-partition order, without gaps or duplicates', async () => {
    const { client, admin, topics, producer, running } = broker;
    const partitions = 12;
    const perPartition = Math.ceil(100_000 / partitions);
    const topic = await topics.create('runtime-order', partitions);
    const total = await produceSequenced(producer, topic, { partitions, perPartition });
    const claimer = new MapClaimer();
    const committer = new RecordingCommitter(claimer);

    const started = await startForwardingRuntime({ client, topic, claimer, committer });
    running.push(started);
    await waitFor(() => committer.committedRecords >= total, { timeoutMs: 60_000, intervalMs: 200, message: `${total} committed records` });

    for (let partition = 0; partition < partitions; partition++) {
      expect({ partition, problems: sequenceProblems(committer.sequences.get(partition) ?? [], perPartition) }).toEqual({ partition, problems: [] });
    }
    expect(committer.committedRecords).toBe(total);
    const highWatermarks = await admin.highWatermarks(topic);
    for (const [partition, highWatermark] of highWatermarks) expect(claimer.offsets.get(`${topic}[${partition}]`)).toBe(highWatermark);
    expect(started.fatal).toEqual([]);
  });

  it('commits different partitions concurrently while each partition commits one batch at a time', async () => {
    const { client, topics, producer, running } = broker;
    const partitions = 4;
    const perPartition = 200;
    const topic = await topics.create('runtime-parallel', partitions);
    const total = await produceSequenced(producer, topic, { partitions, perPartition });
    const claimer = new MapClaimer();
    const committer = new RecordingCommitter(claimer, { delayMs: () => 50 });

    const started = await startForwardingRuntime({ client, topic, claimer, committer, config: { batchMaxRecords: 50 } });
    running.push(started);
    await waitFor(() => committer.committedRecords >= total, { timeoutMs: 30_000, message: `${total} committed records` });

    expect(maxConcurrency(committer.spans)).toBeGreaterThan(1);
    for (let partition = 0; partition < partitions; partition++) {
      const spans = committer.spans.filter((span) => span.partition === partition);
      expect(spans.length).toBeGreaterThanOrEqual(perPartition / 50);
      expect({ partition, concurrency: maxConcurrency(spans) }).toEqual({ partition, concurrency: 1 });
      expect(sequenceProblems(committer.sequences.get(partition) ?? [], perPartition)).toEqual([]);
    }
  });
});
