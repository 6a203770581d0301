import type { Sequelize, Transaction } from 'sequelize';
import { FencedError } from '../core/errors.ts';
import { selectRows } from './sql.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ClaimedPartition extends TopicPartition {
  /** Where processing resumes: the database's offset, never Kafka's committed one. */
  nextOffset: bigint;
  /** The fencing token: commits must present it, and the next claim invalidates it. */
  epoch: bigint;
}

export interface OffsetCommit extends TopicPartition {
  group: string;
  epoch: bigint;
  /** The offset this replica believes is stored; anything else means someone else moved it. */
  expectedNextOffset: bigint;
  nextOffset: bigint;
}

export interface StoredOffset extends ClaimedPartition {
  owner: string | null;
  updatedAt: Date;
}

interface OffsetRow {
  topic: string;
  partition: number;
  next_offset: string;
  epoch: string;
  owner: string | null;
  updated_at: Date;
}

/**
 * Takes ownership of partitions for `owner`: creates missing rows at `defaultOffset`, then
 * bumps each row's epoch, which fences every earlier owner's pending commit. Rows are locked
 * in (topic, partition) order so two replicas claiming overlapping sets cannot deadlock.
 */
export async function claimPartitions(
  sequelize: Sequelize,
  group: string,
  owner: string,
  partitions: TopicPartition[],
  defaultOffset = 0n,
): Promise<ClaimedPartition[]> {
  if (partitions.length === 0) return [];
  const sorted = [...partitions].sort(compareTopicPartition);
  const bind = { group, owner, topics: sorted.map((tp) => tp.topic), partitions: sorted.map((tp) => tp.partition), defaultOffset };
  const rows = await sequelize.transaction(async (transaction) => {
    await selectRows(
      transaction,
      `INSERT INTO stream_offsets (group_id, topic, partition, next_offset)
       SELECT $group, t.topic, t.partition, $defaultOffset::bigint
       FROM unnest($topics::text[], $partitions::int[]) AS t(topic, partition)
       ORDER BY t.topic, t.partition
       ON CONFLICT (group_id, topic, partition) DO NOTHING
       RETURNING 1`,
      bind,
    );
    await selectRows(
      transaction,
      `SELECT 1 FROM stream_offsets s
       JOIN unnest($topics::text[], $partitions::int[]) AS t(topic, partition)
         ON s.topic = t.topic AND s.partition = t.partition
       WHERE s.group_id = $group
       ORDER BY s.topic, s.partition
       FOR UPDATE OF s`,
      bind,
    );
    return selectRows<OffsetRow>(
      transaction,
      `UPDATE stream_offsets s SET epoch = s.epoch + 1, owner = $owner, updated_at = now()
       FROM unnest($topics::text[], $partitions::int[]) AS t(topic, partition)
       WHERE s.group_id = $group AND s.topic = t.topic AND s.partition = t.partition
       RETURNING s.topic, s.partition, s.next_offset, s.epoch, s.owner, s.updated_at`,
      bind,
    );
  });
  return rows.map(toClaimed).sort(compareTopicPartition);
}

/**
 * Compare-and-set of one partition's next offset, inside the sink's transaction. Zero rows
 * matched means another replica claimed the partition (epoch) or moved its offset: throws
 * FencedError, and the caller's transaction must roll back with everything else it wrote.
 */
export async function commitOffset(transaction: Transaction, commit: OffsetCommit): Promise<void> {
  const key = { group: commit.group, topic: commit.topic, partition: commit.partition };
  const updated = await selectRows(
    transaction,
    `UPDATE stream_offsets SET next_offset = $nextOffset::bigint, updated_at = now()
     WHERE group_id = $group AND topic = $topic AND partition = $partition
       AND epoch = $epoch::bigint AND next_offset = $expected::bigint
     RETURNING 1`,
    { ...key, epoch: commit.epoch, expected: commit.expectedNextOffset, nextOffset: commit.nextOffset },
  );
  if (updated.length === 1) return;
  const [current] = await selectRows<OffsetRow>(
    transaction,
    'SELECT topic, partition, next_offset, epoch, owner, updated_at FROM stream_offsets WHERE group_id = $group AND topic = $topic AND partition = $partition',
    key,
  );
  throw new FencedError(commit.topic, commit.partition, describeFence(commit, current));
}

/** Stored offsets of a group (optionally one topic), for status output and lag. */
export async function readOffsets(sequelize: Sequelize, group: string, topic?: string): Promise<StoredOffset[]> {
  const rows = await selectRows<OffsetRow>(
    sequelize,
    `SELECT topic, partition, next_offset, epoch, owner, updated_at FROM stream_offsets
     WHERE group_id = $group AND ($topic::text IS NULL OR topic = $topic::text)
     ORDER BY topic, partition`,
    { group, topic: topic ?? null },
  );
  return rows.map((row) => ({ ...toClaimed(row), owner: row.owner, updatedAt: row.updated_at }));
}

function describeFence(commit: OffsetCommit, current: OffsetRow | undefined): string {
  if (!current) return `group ${commit.group} has no offset row (never claimed)`;
  if (BigInt(current.epoch) !== commit.epoch) {
    return `epoch ${commit.epoch} is stale: now ${current.epoch}, owned by ${current.owner ?? 'nobody'}`;
  }
  return `expected next offset ${commit.expectedNextOffset} but the stored one is ${current.next_offset}`;
}

function toClaimed(row: OffsetRow): ClaimedPartition {
  return { topic: row.topic, partition: row.partition, nextOffset: BigInt(row.next_offset), epoch: BigInt(row.epoch) };
}

function compareTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
