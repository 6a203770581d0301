/**
 * Backpressure on the real broker: under a slow sink the runtime pauses fetching of a
 * partition once it holds more than `maxInflightPerPartition` uncommitted records, resumes
 * it once the sink caught up, and loses nothing on the way.
 */
import { describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../core/config.ts';
import type { StreamRuntime } from '../../../topology/runtime/stream-runtime.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { waitFor } from '../../support/kafka.ts';
import { MapClaimer, produceSequenced, RecordingCommitter, sequenceProblems, startForwardingRuntime } from '../../support/runtime.ts';

const CLIENTS: KafkaClientName[] = ['platformatic', 'kafkajs'];
const MAX_INFLIGHT = 200;

interface Delivery {
  partition: number;
  size: number;
  inflightBefore: number;
  inflightAfter: number;
}

function inflightOf(runtime: StreamRuntime, partition: number): number {
  return runtime.stats().partitions.find((candidate) => candidate.partition === partition)?.inflight ?? 0;
}

describe.each(CLIENTS)('StreamRuntime backpressure on the real broker: %s', (clientName) => {
  const broker = useBroker(clientName);

  it('pauses partitions above the in-flight bound under a slow sink, resumes them, and commits everything', async () => {
    const { client, topics, producer, running } = broker;
    const partitions = 4;
    const perPartition = 1_000;
    const topic = await topics.create('runtime-backpressure', partitions);
    // ~10 KB values: a 1 MB fetch holds about 100 records, well under the bound, so the bound
    // (not the fetch size) is what stops deliveries.
    const total = await produceSequenced(producer, topic, { partitions, perPartition, paddingBytes: 10_000, batchSize: 200 });
    const claimer = new MapClaimer();
    const slowPhaseRecords = 2_000;
    const committer: RecordingCommitter = new RecordingCommitter(claimer, { delayMs: () => (committer.committedRecords < slowPhaseRecords ? 100 : 0) });
    const deliveries: Delivery[] = [];

    const started = await startForwardingRuntime({
      client,
      topic,
      claimer,
      committer,
      config: { batchMaxRecords: 50, maxInflightPerPartition: MAX_INFLIGHT },
      beforeBatch: (batch, runtime) => {
        deliveries.push({ partition: batch.partition, size: batch.records.length, inflightBefore: inflightOf(runtime, batch.partition), inflightAfter: 0 });
      },
      afterBatch: (batch, runtime) => {
        deliveries.at(-1)!.inflightAfter = inflightOf(runtime, batch.partition);
      },
    });
    running.push(started);
    await waitFor(() => committer.committedRecords >= total, { timeoutMs: 60_000, intervalMs: 100, message: `${total} committed records` });

    const paused = started.events.filter((event) => event.type === 'paused');
    const resumed = started.events.filter((event) => event.type === 'resumed');
    expect(paused.length).toBeGreaterThan(0);
    expect(paused.every((event) => event.reason === 'partition')).toBe(true);
    expect(resumed.length).toBeGreaterThan(0);
    for (let partition = 0; partition < partitions; partition++) {
      expect(started.events.some((event) => event.type === 'resumed' && event.partition === partition)).toBe(true);
    }

    // A partition is only ever delivered to while at or below its bound, so it never holds
    // more than the bound plus the one fetch that crossed it.
    const largestFetch = Math.max(...deliveries.map((delivery) => delivery.size));
    expect(largestFetch).toBeLessThan(MAX_INFLIGHT); // otherwise the bound could not be told from the fetch size
    expect(deliveries.filter((delivery) => delivery.inflightBefore > MAX_INFLIGHT)).toEqual([]);
    expect(Math.max(...deliveries.map((delivery) => delivery.inflightAfter))).toBeLessThanOrEqual(MAX_INFLIGHT + largestFetch);
    expect(deliveries.length).toBeGreaterThan(partitions * 2);

    for (let partition = 0; partition < partitions; partition++) {
      expect(sequenceProblems(committer.sequences.get(partition) ?? [], perPartition)).toEqual([]);
    }
    expect(started.fatal).toEqual([]);
  });
});
