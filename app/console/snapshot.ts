/**
 * The console's Snapshot (GET /api/snapshot, and every `snapshot` event of /api/events): the
 * status report of `topology status` (app/status.ts) plus the records per second of every node
 * of the graph (node-rates.ts), rated over the interval since the previous sample.
 */
import type { Sequelize } from 'sequelize';
import type { KafkaAdmin } from '../../kafka/port.ts';
import type { TopologyDescription } from '../../topology/describe/index.ts';
import { buildStatus, type OutcomeKind, type OutcomeTopics, type StatusSnapshot, type SubtopologyTopics, takeSnapshot } from '../status.ts';
import { graphRates, type RateSample, sinkTopics } from './node-rates.ts';

export interface Snapshot {
  at: string;
  group: string;
  totalLag: string;
  subtopologies: Array<{ id: number; topics: string[]; totalLag: string; recordsPerSecond: number }>;
  nodes: Record<string, { recordsPerSecond: number }>;
  partitions: Array<{ topic: string; partition: number; subtopology: number; owner: string | null; epoch: string; dbOffset: string; highWatermark: string; lag: string; lastCommitAt: string | null }>;
  replicas: Array<{ replica: string; topic: string; partitions: number[]; ratePerSecond: number }>;
  outbox: { backlog: number; parked: number };
  deadLetters: { count: string };
  outcomeRates: Record<OutcomeKind, number>;
}

/** What one sample read: the status snapshot and the end offsets of the sink topics. */
export interface ConsoleSample {
  status: StatusSnapshot;
  /** Per sink topic that is not a source topic too (those are in status.highWatermarks), its end offsets summed. */
  sinkEnds: Map<string, bigint>;
}

export interface SampleDeps {
  sequelize: Sequelize;
  admin: KafkaAdmin;
  group: string;
  subtopologies: SubtopologyTopics[];
  description: TopologyDescription;
  dlqTopic: string;
  outcomeTopics: OutcomeTopics;
}

export async function takeConsoleSample(deps: SampleDeps): Promise<ConsoleSample> {
  const sourceTopics = deps.subtopologies.flatMap((subtopology) => subtopology.topics);
  const sinkOnly = sinkTopics(deps.description).filter((topic) => !sourceTopics.includes(topic));
  const [status, sinkEnds] = await Promise.all([
    takeSnapshot({ sequelize: deps.sequelize, admin: deps.admin, group: deps.group, topics: sourceTopics, dlqTopic: deps.dlqTopic, outcomeTopics: deps.outcomeTopics }),
    Promise.all(
      sinkOnly.map(async (topic) => {
        // A topic not created yet has no end offsets: its sink's rate is 0, not an error.
        const ends = await deps.admin.highWatermarks(topic).catch(() => undefined);
        return ends === undefined ? [] : [[topic, sum(ends.values())] as const];
      }),
    ).then((entries) => new Map(entries.flat())),
  ]);
  return { status, sinkEnds };
}

/** Pure: the Snapshot between two samples (the same sample twice: every rate 0, as for the first one). */
export function buildSnapshot(deps: Pick<SampleDeps, 'group' | 'subtopologies' | 'description'>, before: ConsoleSample, after: ConsoleSample): Snapshot {
  const report = buildStatus(deps.group, deps.subtopologies, before.status, after.status);
  const rates = graphRates(deps.description, rateSample(before), rateSample(after));
  return {
    at: new Date(after.status.atMs).toISOString(),
    group: report.group,
    totalLag: report.totalLag,
    subtopologies: report.subtopologies.map((subtopology) => ({ ...subtopology, recordsPerSecond: rates.subtopologies.get(subtopology.id) ?? 0 })),
    nodes: rates.nodes,
    partitions: report.partitions.map(({ topic, partition, subtopology, owner, epoch, dbOffset, highWatermark, lag, lastCommitAt }) => ({ topic, partition, subtopology, owner, epoch, dbOffset, highWatermark, lag, lastCommitAt })),
    replicas: report.replicas,
    outbox: { backlog: report.outboxBacklog, parked: report.outboxParked },
    deadLetters: { count: report.deadLetters },
    outcomeRates: report.outcomeRates,
  };
}

function rateSample(sample: ConsoleSample): RateSample {
  const committed = new Map<string, bigint>();
  for (const offset of sample.status.offsets) committed.set(offset.topic, (committed.get(offset.topic) ?? 0n) + offset.nextOffset);
  const ends = new Map(sample.sinkEnds);
  for (const [topic, partitions] of sample.status.highWatermarks) ends.set(topic, sum(partitions.values()));
  return { atMs: sample.status.atMs, committed, ends };
}

function sum(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}
