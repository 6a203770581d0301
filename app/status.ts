/**
 * `topology status`: where every partition of every source topic stands, per sub-topology,
 * computed from the DATABASE offsets (Kafka's committed offsets do not see ours) against the
 * broker's high watermarks. A sub-topology downstream of a repartition reads an internal topic,
 * so its lag is how far it is behind the sub-topology feeding it.
 */

import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import { partitionLag } from '../core/partitions.ts';
import type { KafkaAdmin } from '../kafka/port.ts';
import { readOffsets, type StoredOffset } from '../state/offset-store.ts';
import { countParked, countUnpublished } from '../state/outbox-store.ts';
import type { Topology } from '../topology/builder.ts';
import { subtopologiesOf } from '../topology/subtopologies.ts';

/** A sub-topology and the topics its sources read. */
export interface SubtopologyTopics {
  id: number;
  topics: string[];
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  subtopology: number;
  owner: string | null;
  dbOffset: string;
  highWatermark: string;
  lag: string;
  lastCommitAt: string | null;
  epoch: string;
}

export interface SubtopologyStatus extends SubtopologyTopics {
  totalLag: string;
}

/** What one replica owns of one source topic. */
export interface ReplicaStatus {
  replica: string;
  topic: string;
  partitions: number[];
  /** Records committed per second over the sampling window. */
  ratePerSecond: number;
}

/** The outcome topics whose end offsets give the order flow's rates. */
export interface OutcomeTopics {
  confirmed: string;
  rejected: string;
  restocked: string;
}

export type OutcomeKind = keyof OutcomeTopics;
const OUTCOME_KINDS: readonly OutcomeKind[] = ['confirmed', 'rejected', 'restocked'];

export function outcomeTopicsOf(config: Pick<AppConfig, 'ordersConfirmedTopic' | 'ordersRejectedTopic' | 'inventoryRestockedTopic'>): OutcomeTopics {
  return { confirmed: config.ordersConfirmedTopic, rejected: config.ordersRejectedTopic, restocked: config.inventoryRestockedTopic };
}

export interface StatusReport {
  group: string;
  /** Every source topic, in sub-topology order. */
  topics: string[];
  subtopologies: SubtopologyStatus[];
  partitions: PartitionStatus[];
  replicas: ReplicaStatus[];
  totalLag: string;
  /** Outbox rows not published yet, parked ones included. */
  outboxBacklog: number;
  /** Outbox rows the relay set aside (`topology outbox --parked`). */
  outboxParked: number;
  deadLetters: string;
  /**
   * Outcome events per second over the sampling window (one decimal below 10): orders confirmed,
   * orders rejected, and restocks applied (InventoryRestocked events, not units).
   */
  outcomeRates: Record<OutcomeKind, number>;
  sampledMs: number;
}

export interface StatusSnapshot {
  /** The group's stored offsets, every topic. */
  offsets: StoredOffset[];
  /** Per source topic, per partition. */
  highWatermarks: Map<string, Map<number, bigint>>;
  dlqWatermarks: Map<number, bigint>;
  outboxBacklog: number;
  outboxParked: number;
  /** Per outcome topic, the sum of its partitions' end offsets; absent when it could not be read. */
  outcomeEnds: Partial<Record<OutcomeKind, bigint>>;
  atMs: number;
}

/** The sub-topologies of a topology with their source topics: what status reports on. */
export function subtopologyTopics(topology: Topology): SubtopologyTopics[] {
  return subtopologiesOf(topology).map(({ id, sourceTopics }) => ({ id, topics: sourceTopics }));
}

/**
 * A topic's end offsets; none for a topic not created yet (a topology's internal topics appear
 * when its first processor starts), so status reports it empty instead of failing.
 */
async function highWatermarksOf(admin: KafkaAdmin, topic: string): Promise<Map<number, bigint>> {
  if ((await admin.partitionCount(topic)) === undefined) return new Map();
  return admin.highWatermarks(topic);
}

/**
 * The lag of these topics summed over their partitions, as status reports it, from the offsets
 * and the end offsets alone: for a caller that polls it often (the bench's catch-up), without
 * the outbox counts of a full snapshot, which read the whole pending outbox.
 */
export async function totalLag(deps: { sequelize: Sequelize; admin: KafkaAdmin; group: string; topics: string[] }): Promise<bigint> {
  const [offsets, ends] = await Promise.all([readOffsets(deps.sequelize, deps.group), Promise.all(deps.topics.map((topic) => highWatermarksOf(deps.admin, topic)))]);
  const stored = new Map(offsets.map((offset) => [`${offset.topic}[${offset.partition}]`, offset.nextOffset]));
  let lag = 0n;
  deps.topics.forEach((topic, i) => {
    for (const [partition, highWatermark] of ends[i]!) lag += partitionLag(highWatermark, stored.get(`${topic}[${partition}]`) ?? 0n);
  });
  return lag;
}

export async function takeSnapshot(deps: { sequelize: Sequelize; admin: KafkaAdmin; group: string; topics: string[]; dlqTopic: string; outcomeTopics: OutcomeTopics }): Promise<StatusSnapshot> {
  const [offsets, highWatermarks, dlqWatermarks, outboxBacklog, outboxParked, outcomeEnds] = await Promise.all([
    readOffsets(deps.sequelize, deps.group),
    Promise.all(deps.topics.map(async (topic) => [topic, await highWatermarksOf(deps.admin, topic)] as const)).then((entries) => new Map(entries)),
    deps.admin.highWatermarks(deps.dlqTopic).catch(() => new Map<number, bigint>()),
    countUnpublished(deps.sequelize),
    countParked(deps.sequelize),
    readOutcomeEnds(deps.admin, deps.outcomeTopics),
  ]);
  return { offsets, highWatermarks, dlqWatermarks, outboxBacklog, outboxParked, outcomeEnds, atMs: Date.now() };
}

/** An outcome topic that cannot be read (not created yet by an older deployment) is left out: its rate shows 0. */
async function readOutcomeEnds(admin: KafkaAdmin, topics: OutcomeTopics): Promise<Partial<Record<OutcomeKind, bigint>>> {
  const entries = await Promise.all(
    OUTCOME_KINDS.map(async (kind) => {
      const ends = await admin.highWatermarks(topics[kind]).catch(() => undefined);
      return ends === undefined ? [] : [[kind, [...ends.values()].reduce((sum, end) => sum + end, 0n)] as const];
    }),
  );
  return Object.fromEntries(entries.flat());
}

/** Events per second between two end-offset sums: one decimal below 10, whole above. */
export function eventRate(before: bigint | undefined, after: bigint | undefined, windowMs: number): number {
  if (before === undefined || after === undefined || after <= before) return 0;
  const perSecond = (Number(after - before) * 1000) / windowMs;
  return perSecond < 10 ? Math.round(perSecond * 10) / 10 : Math.round(perSecond);
}

/** `3.2`, `0.0`, `41`: a rate as eventRate rounds it, always with its decimal below 10. */
export function formatRate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

/** Pure: builds the report from two snapshots (the rate is the committed-offset delta between them). */
export function buildStatus(group: string, subtopologies: SubtopologyTopics[], before: StatusSnapshot, after: StatusSnapshot): StatusReport {
  const key = (topic: string, partition: number) => `${topic}[${partition}]`;
  const stored = new Map(after.offsets.map((offset) => [key(offset.topic, offset.partition), offset]));
  const earlier = new Map(before.offsets.map((offset) => [key(offset.topic, offset.partition), offset.nextOffset]));
  const windowMs = Math.max(1, after.atMs - before.atMs);
  /** Per replica, per topic (a Map keeps first-seen order). */
  const perReplica = new Map<string, Map<string, { partitions: number[]; committed: bigint }>>();
  const partitions: PartitionStatus[] = [];
  const subtopologyLag = subtopologies.map((subtopology): SubtopologyStatus => {
    let lagSum = 0n;
    for (const topic of subtopology.topics) {
      const highWatermarks = after.highWatermarks.get(topic) ?? new Map<number, bigint>();
      const storedIds = after.offsets.filter((offset) => offset.topic === topic).map((offset) => offset.partition);
      for (const partition of [...new Set([...highWatermarks.keys(), ...storedIds])].sort((a, b) => a - b)) {
        const offset = stored.get(key(topic, partition));
        const dbOffset = offset?.nextOffset ?? 0n;
        const highWatermark = highWatermarks.get(partition) ?? 0n;
        const lag = partitionLag(highWatermark, dbOffset);
        lagSum += lag;
        const owner = offset?.owner ?? null;
        if (owner !== null) {
          const topics = perReplica.get(owner) ?? new Map<string, { partitions: number[]; committed: bigint }>();
          const owned = topics.get(topic) ?? { partitions: [], committed: 0n };
          owned.partitions.push(partition);
          owned.committed += dbOffset - (earlier.get(key(topic, partition)) ?? dbOffset);
          topics.set(topic, owned);
          perReplica.set(owner, topics);
        }
        partitions.push({
          topic,
          partition,
          subtopology: subtopology.id,
          owner,
          dbOffset: dbOffset.toString(),
          highWatermark: highWatermark.toString(),
          lag: lag.toString(),
          lastCommitAt: offset ? offset.updatedAt.toISOString() : null,
          epoch: (offset?.epoch ?? 0n).toString(),
        });
      }
    }
    return { ...subtopology, totalLag: lagSum.toString() };
  });
  const replicas = [...perReplica].flatMap(([replica, topics]) =>
    [...topics].map(([topic, { partitions: owned, committed }]) => ({
      replica,
      topic,
      partitions: owned,
      ratePerSecond: Math.round((Number(committed) * 1000) / windowMs),
    })),
  );
  const totalLag = subtopologyLag.reduce((sum, subtopology) => sum + BigInt(subtopology.totalLag), 0n);
  const deadLetters = [...after.dlqWatermarks.values()].reduce((sum, value) => sum + value, 0n);
  return {
    group,
    topics: subtopologies.flatMap((subtopology) => subtopology.topics),
    subtopologies: subtopologyLag,
    partitions,
    replicas,
    totalLag: totalLag.toString(),
    outboxBacklog: after.outboxBacklog,
    outboxParked: after.outboxParked,
    deadLetters: deadLetters.toString(),
    outcomeRates: Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, eventRate(before.outcomeEnds[kind], after.outcomeEnds[kind], windowMs)])) as Record<OutcomeKind, number>,
    sampledMs: windowMs,
  };
}

/**
 * One topic (the reference pipeline): its partitions by number. Several: a line per
 * sub-topology with its lag, and the partitions with their topic.
 */
export function formatStatus(report: StatusReport): string {
  const single = report.topics.length === 1;
  const parked = report.outboxParked > 0 ? ` (${report.outboxParked} parked: npm run topology -- outbox --parked)` : '';
  const headline = `group ${report.group} on ${single ? 'topic' : 'topics'} ${report.topics.join(', ')}: total lag ${report.totalLag}, outbox backlog ${report.outboxBacklog}${parked}, dead letters ${report.deadLetters}`;
  const header = [...(single ? [] : ['sub-topology', 'topic']), 'partition', 'owner', 'db offset', 'high watermark', 'lag', 'last commit'];
  const rows = report.partitions.map((p) => [...(single ? [] : [String(p.subtopology), p.topic]), String(p.partition), p.owner ?? '-', p.dbOffset, p.highWatermark, p.lag, p.lastCommitAt ?? '-']);
  const subtopologyRows = report.subtopologies.map((s) => [String(s.id), s.topics.join(', '), s.totalLag]);
  const replicaRows = report.replicas.map((r) => [r.replica, ...(single ? [] : [r.topic]), r.partitions.join(','), String(r.ratePerSecond)]);
  const rates = report.outcomeRates;
  const outcomes = `outcomes: confirmed ${formatRate(rates.confirmed)}/s, rejected ${formatRate(rates.rejected)}/s, restocked ${formatRate(rates.restocked)}/s (restocks applied, not units)`;
  return [
    headline,
    outcomes,
    '',
    ...(single ? [] : [formatTable(['sub-topology', 'topics', 'lag'], subtopologyRows), '']),
    formatTable(header, rows),
    '',
    replicaRows.length > 0 ? formatTable(['replica', ...(single ? [] : ['topic']), 'partitions', 'records/s'], replicaRows) : 'no replica has claimed a partition yet',
  ].join('\n');
}

/** A plain-text table: columns padded to their widest cell, a dashed line under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
