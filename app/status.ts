/**
 * `topology status`: where every partition stands, computed from the DATABASE offsets (Kafka's
 * committed offsets do not see ours) against the broker's high watermarks.
 */
import type { Sequelize } from 'sequelize';
import type { KafkaAdmin } from '../kafka/port.ts';
import { readOffsets, type StoredOffset } from '../state/offset-store.ts';
import { countParked, countUnpublished } from '../state/outbox-store.ts';

export interface PartitionStatus {
  partition: number;
  owner: string | null;
  dbOffset: string;
  highWatermark: string;
  lag: string;
  lastCommitAt: string | null;
  epoch: string;
}

export interface ReplicaStatus {
  replica: string;
  partitions: number[];
  /** Records committed per second over the sampling window. */
  ratePerSecond: number;
}

export interface StatusReport {
  group: string;
  topic: string;
  partitions: PartitionStatus[];
  replicas: ReplicaStatus[];
  totalLag: string;
  /** Outbox rows not published yet, parked ones included. */
  outboxBacklog: number;
  /** Outbox rows the relay set aside (`topology outbox --parked`). */
  outboxParked: number;
  deadLetters: string;
  sampledMs: number;
}

export interface StatusSnapshot {
  offsets: StoredOffset[];
  highWatermarks: Map<number, bigint>;
  dlqWatermarks: Map<number, bigint>;
  outboxBacklog: number;
  outboxParked: number;
  atMs: number;
}

export async function takeSnapshot(deps: { sequelize: Sequelize; admin: KafkaAdmin; group: string; topic: string; dlqTopic: string }): Promise<StatusSnapshot> {
  const [offsets, highWatermarks, dlqWatermarks, outboxBacklog, outboxParked] = await Promise.all([
    readOffsets(deps.sequelize, deps.group, deps.topic),
    deps.admin.highWatermarks(deps.topic),
    deps.admin.highWatermarks(deps.dlqTopic).catch(() => new Map<number, bigint>()),
    countUnpublished(deps.sequelize),
    countParked(deps.sequelize),
  ]);
  return { offsets, highWatermarks, dlqWatermarks, outboxBacklog, outboxParked, atMs: Date.now() };
}

/** Pure: builds the report from two snapshots (the rate is the committed-offset delta between them). */
export function buildStatus(group: string, topic: string, before: StatusSnapshot, after: StatusSnapshot): StatusReport {
  const stored = new Map(after.offsets.map((offset) => [offset.partition, offset]));
  const earlier = new Map(before.offsets.map((offset) => [offset.partition, offset.nextOffset]));
  const windowMs = Math.max(1, after.atMs - before.atMs);
  const partitionIds = [...new Set([...after.highWatermarks.keys(), ...stored.keys()])].sort((a, b) => a - b);
  let totalLag = 0n;
  const perReplica = new Map<string, { partitions: number[]; committed: bigint }>();
  const partitions = partitionIds.map((partition): PartitionStatus => {
    const offset = stored.get(partition);
    const dbOffset = offset?.nextOffset ?? 0n;
    const highWatermark = after.highWatermarks.get(partition) ?? 0n;
    const lag = highWatermark > dbOffset ? highWatermark - dbOffset : 0n;
    totalLag += lag;
    const owner = offset?.owner ?? null;
    if (owner !== null) {
      const replica = perReplica.get(owner) ?? { partitions: [], committed: 0n };
      replica.partitions.push(partition);
      replica.committed += dbOffset - (earlier.get(partition) ?? dbOffset);
      perReplica.set(owner, replica);
    }
    return {
      partition,
      owner,
      dbOffset: dbOffset.toString(),
      highWatermark: highWatermark.toString(),
      lag: lag.toString(),
      lastCommitAt: offset ? offset.updatedAt.toISOString() : null,
      epoch: (offset?.epoch ?? 0n).toString(),
    };
  });
  const replicas = [...perReplica].map(([replica, { partitions: owned, committed }]) => ({
    replica,
    partitions: owned,
    ratePerSecond: Math.round((Number(committed) * 1000) / windowMs),
  }));
  const deadLetters = [...after.dlqWatermarks.values()].reduce((sum, value) => sum + value, 0n);
  return { group, topic, partitions, replicas, totalLag: totalLag.toString(), outboxBacklog: after.outboxBacklog, outboxParked: after.outboxParked, deadLetters: deadLetters.toString(), sampledMs: windowMs };
}

export function formatStatus(report: StatusReport): string {
  const header = ['partition', 'owner', 'db offset', 'high watermark', 'lag', 'last commit'];
  const rows = report.partitions.map((p) => [String(p.partition), p.owner ?? '-', p.dbOffset, p.highWatermark, p.lag, p.lastCommitAt ?? '-']);
  const replicaHeader = ['replica', 'partitions', 'records/s'];
  const replicaRows = report.replicas.map((r) => [r.replica, r.partitions.join(','), String(r.ratePerSecond)]);
  return [
    `group ${report.group} on topic ${report.topic}: total lag ${report.totalLag}, outbox backlog ${report.outboxBacklog}${report.outboxParked > 0 ? ` (${report.outboxParked} parked: npm run topology -- outbox --parked)` : ''}, dead letters ${report.deadLetters}`,
    '',
    formatTable(header, rows),
    '',
    replicaRows.length > 0 ? formatTable(replicaHeader, replicaRows) : 'no replica has claimed a partition yet',
  ].join('\n');
}

/** A plain-text table: columns padded to their widest cell, a dashed line under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
