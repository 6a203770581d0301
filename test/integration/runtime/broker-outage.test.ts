/**
 * Broker outages while a runtime consumes, on a private broker (never the shared one): the
 * broker SIGKILLed and restarted, or paused (SIGSTOP/SIGCONT). Nothing exits, the consumer comes
 * back by itself, and every partition processes again within 15 s of the broker's return.
 * The outages last what the issue names (a 60 s kill, a 30 s pause; KILL_OUTAGE_MS and
 * PAUSE_OUTAGE_MS shorten them); both outlast the group session timeout, which is what makes
 * them hard: the member is dropped from the group and must rejoin.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../core/config.ts';
import { createLogger, silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient } from '../../../kafka/port.ts';
import { type PrivateKafka, startKafka } from '../../../verify/services/kafka.ts';
import { Workspace } from '../../../verify/services/workspace.ts';
import { observeQuietPeriod, uniqueName, waitFor } from '../../support/kafka.ts';
import { MapClaimer, produceSequenced, RecordingCommitter, type RunningRuntime, startForwardingRuntime } from '../../support/runtime.ts';

const KILL_OUTAGE_MS = Number(process.env.KILL_OUTAGE_MS ?? 60_000);
const PAUSE_OUTAGE_MS = Number(process.env.PAUSE_OUTAGE_MS ?? 30_000);
const RECOVERY_MS = 15_000;
const PARTITIONS = 3;
const logger = process.env.OUTAGE_LOG ? createLogger({ level: 'debug', format: 'pretty' }) : silentLogger;

describe.each(['platformatic', 'kafkajs'] as KafkaClientName[])('broker outages (%s)', (clientName) => {
  let workspace: Workspace;
  let broker: PrivateKafka;
  let client: KafkaClient;
  let admin: KafkaAdmin;

  beforeAll(async () => {
    // The verifier's private cluster (one node, its own ports and folder): never the shared broker.
    workspace = new Workspace();
    broker = await startKafka(workspace, new Set(), 1);
    client = createKafkaClient({ kafkaClient: clientName, kafkaBrokers: broker.brokers }, logger);
    admin = await client.admin();
  });

  afterAll(async () => {
    await admin?.close().catch(() => {});
    await workspace?.close();
  });

  /** Produces `perPartition` more records with a fresh producer (the test's producer is not under test). */
  async function produce(topic: string, perPartition: number, firstSeq: number): Promise<void> {
    const producer = await waitFor(() => client.producer().catch(() => undefined), { timeoutMs: 30_000, message: 'a producer' });
    try {
      await waitFor(() => produceSequenced(producer, topic, { partitions: PARTITIONS, perPartition, firstSeq }).then(() => true), { timeoutMs: 30_000, message: 'records produced' });
    } finally {
      await producer.close().catch(() => {});
    }
  }

  async function consuming(): Promise<{ topic: string; committer: RecordingCommitter; started: RunningRuntime }> {
    const topic = uniqueName(`outage-${clientName}`);
    await admin.createTopics([{ topic, partitions: PARTITIONS }]);
    const claimer = new MapClaimer();
    const committer = new RecordingCommitter(claimer);
    const started = await startForwardingRuntime({ client, topic, claimer, committer, logger, config: { batchMaxRecords: 20, commitIntervalMs: 20 } });
    await produce(topic, 20, 0);
    await waitFor(() => committer.committedRecords === 60, { timeoutMs: 30_000, message: 'records before the outage' });
    return { topic, committer, started };
  }

  async function expectRecovered(topic: string, committer: RecordingCommitter, started: RunningRuntime): Promise<void> {
    const back = Date.now();
    await produce(topic, 20, 20);
    await waitFor(() => committer.committedRecords >= 120 && [0, 1, 2].every((p) => committer.sequences.get(p)?.at(-1) === 39), {
      timeoutMs: RECOVERY_MS - (Date.now() - back) + 5_000,
      message: 'every partition processing again',
    });
    const recoveredInMs = Date.now() - back;
    expect(recoveredInMs).toBeLessThan(RECOVERY_MS);
    expect(started.runtime.stats().running).toBe(true);
    expect(started.runtime.stats().waiting).toEqual([]);
    await started.stop();
  }

  it('survives a SIGKILL of the broker and its restart', async () => {
    const { topic, committer, started } = await consuming();
    broker.kill(0);
    await observeQuietPeriod(KILL_OUTAGE_MS);
    await broker.restart(0);
    await expectRecovered(topic, committer, started);
  });

  it('survives a paused broker (SIGSTOP, then SIGCONT)', async () => {
    const { topic, committer, started } = await consuming();
    broker.pause(0);
    await observeQuietPeriod(PAUSE_OUTAGE_MS);
    broker.resume(0);
    await expectRecovered(topic, committer, started);
  });
});
