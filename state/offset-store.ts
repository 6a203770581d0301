import type { Sequelize, Transaction } from 'sequelize';
import { FencedError } from '../core/errors.ts';
import type { ClaimedPartition, TopicPartition } from '../core/partitions.ts';
import { type BindParams, type Executor, inTransaction, selectRows } from './sql.ts';

/** A claim as the database stores it: the epoch is always a bigint here. */
export interface StoredClaim extends ClaimedPartition {
  epoch: bigint;
}

export interface OffsetCommit extends TopicPartition {
  group: string;
  epoch: bigint;
  /** The offset this replica believes is stored; anything else means someone else moved it. */
  expectedNextOffset: bigint;
  nextOffset: bigint;
  /** Stored with the offset when given (a repartition topic's task); left as it is otherwise. */
  originWatermarks?: Readonly<Record<string, string>>;
  /**
   * The batch's id. The compare-and-set also requires that the stored id is another one, so a
   * retry of a batch that did commit is fenced even when it moves no offset, and the sink can
   * recognise its own commit (StoredOffset.lastCommitId).
   */
  commitId?: string;
}

export interface StoredOffset extends StoredClaim {
  owner: string | null;
  updatedAt: Date;
  /** The id of the last batch committed (OffsetCommit.commitId), if it had one. */
  lastCommitId: string | null;
}

interface OffsetRow {
  topic: string;
  partition: number;
  next_offset: string;
  epoch: string;
  owner: string | null;
  updated_at: Date;
  origin_watermarks?: Record<string, string> | null;
  last_commit_id?: string | null;
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
): Promise<StoredClaim[]> {
  if (partitions.length === 0) return [];
  const sorted = [...partitions].sort(compareTopicPartition);
  const bind = { group, owner, topics: sorted.map((tp) => tp.topic), partitions: sorted.map((tp) => tp.partition), defaultOffset };
  const rows = await inTransaction(sequelize, async (transaction) => {
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
       RETURNING s.topic, s.partition, s.next_offset, s.epoch, s.owner, s.updated_at, s.origin_watermarks`,
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
  const fence = offsetFenceCte('fence', commit);
  const updated = await selectRows(transaction, `WITH ${fence.cte} SELECT 1 FROM fence`, fence.bind);
  if (updated.length === 1) return;
  throw await fencedError(transaction, commit);
}

/**
 * The compare-and-set of `commitOffset` as a CTE named `name`, for a statement that does more
 * in the same round trip: it yields one row when the CAS matched and none when fenced, so the
 * statement's other writes can be guarded with `EXISTS (SELECT FROM name)`.
 */
export function offsetFenceCte(name: string, commit: OffsetCommit): { cte: string; bind: BindParams } {
  return {
    cte: `${name} AS (
      UPDATE stream_offsets SET next_offset = $offsetNext::bigint, updated_at = now(),
        origin_watermarks = coalesce($offsetWatermarks::jsonb, origin_watermarks), last_commit_id = $offsetCommitId::text
      WHERE group_id = $offsetGroup AND topic = $offsetTopic AND partition = $offsetPartition::int
        AND epoch = $offsetEpoch::bigint AND next_offset = $offsetExpected::bigint
        AND ($offsetCommitId::text IS NULL OR last_commit_id IS DISTINCT FROM $offsetCommitId::text)
      RETURNING 1)`,
    bind: {
      offsetGroup: commit.group,
      offsetTopic: commit.topic,
      offsetPartition: commit.partition,
      offsetEpoch: commit.epoch,
      offsetExpected: commit.expectedNextOffset,
      offsetNext: commit.nextOffset,
      offsetWatermarks: commit.originWatermarks === undefined ? null : JSON.stringify(commit.originWatermarks),
      offsetCommitId: commit.commitId ?? null,
    },
  };
}

/** The FencedError for a commit whose compare-and-set matched nothing, naming what moved. */
export async function fencedError(executor: Executor, commit: OffsetCommit): Promise<FencedError> {
  const [current] = await selectRows<OffsetRow>(
    executor,
    'SELECT topic, partition, next_offset, epoch, owner, updated_at FROM stream_offsets WHERE group_id = $group AND topic = $topic AND partition = $partition',
    { group: commit.group, topic: commit.topic, partition: commit.partition },
  );
  return new FencedError(commit.topic, commit.partition, describeFence(commit, current));
}

/**
 * Gives up claims `owner` will not use: clears the owner of rows still at the claimed epoch, so
 * status does not name a member that does not process the partition. A later claim (higher
 * epoch) is left alone; the epoch is never lowered, so the released claim stays fenced.
 */
export async function releasePartitions(
  sequelize: Sequelize,
  group: string,
  owner: string,
  claims: Array<TopicPartition & { epoch: bigint | number }>,
): Promise<void> {
  if (claims.length === 0) return;
  await selectRows(
    sequelize,
    `UPDATE stream_offsets s SET owner = NULL, updated_at = now()
     FROM unnest($topics::text[], $partitions::int[], $epochs::bigint[]) AS t(topic, partition, epoch)
     WHERE s.group_id = $group AND s.topic = t.topic AND s.partition = t.partition AND s.epoch = t.epoch AND s.owner = $owner
     RETURNING 1`,
    { group, owner, topics: claims.map((c) => c.topic), partitions: claims.map((c) => c.partition), epochs: claims.map((c) => String(c.epoch)) },
  );
}

export interface OffsetTarget extends TopicPartition {
  nextOffset: bigint;
}

export interface OffsetRewrite extends TopicPartition {
  /** The stored offset before, or undefined when the partition had no row. */
  before: bigint | undefined;
  after: bigint;
  epochBefore: bigint | undefined;
  /** Bumped by one: an owner that still holds the old epoch is fenced on its next commit. */
  epochAfter: bigint;
  ownerBefore: string | null;
}

/**
 * Rewrites stored offsets (the reset command): one transaction, rows locked in (topic,
 * partition) order like a claim, each rewritten row's epoch bumped and its owner cleared. A
 * replica still holding the partition is fenced on its next commit and claims it again from
 * the new offset. With `dryRun` the same work is done and rolled back.
 */
export async function rewriteOffsets(sequelize: Sequelize, group: string, targets: OffsetTarget[], options: { dryRun?: boolean } = {}): Promise<OffsetRewrite[]> {
  if (targets.length === 0) return [];
  const sorted = [...targets].sort(compareTopicPartition);
  const bind = {
    group,
    topics: sorted.map((t) => t.topic),
    partitions: sorted.map((t) => t.partition),
    offsets: sorted.map((t) => t.nextOffset.toString()),
  };
  const rollback = new Error('dry run');
  let result: OffsetRewrite[] = [];
  try {
    await inTransaction(sequelize, async (transaction) => {
      const before = await selectRows<OffsetRow>(
        transaction,
        `SELECT s.topic, s.partition, s.next_offset, s.epoch, s.owner, s.updated_at FROM stream_offsets s
         JOIN unnest($topics::text[], $partitions::int[]) AS t(topic, partition) ON s.topic = t.topic AND s.partition = t.partition
         WHERE s.group_id = $group ORDER BY s.topic, s.partition FOR UPDATE OF s`,
        bind,
      );
      const after = await selectRows<OffsetRow>(
        transaction,
        `INSERT INTO stream_offsets (group_id, topic, partition, next_offset, epoch, owner)
         SELECT $group, t.topic, t.partition, t.next_offset, 1, NULL
         FROM unnest($topics::text[], $partitions::int[], $offsets::bigint[]) AS t(topic, partition, next_offset)
         ORDER BY t.topic, t.partition
         ON CONFLICT (group_id, topic, partition) DO UPDATE
           SET next_offset = EXCLUDED.next_offset, epoch = stream_offsets.epoch + 1, owner = NULL, updated_at = now()
         RETURNING topic, partition, next_offset, epoch, owner, updated_at`,
        bind,
      );
      const previous = new Map(before.map((row) => [`${row.topic}:${row.partition}`, row]));
      result = after
        .map((row) => {
          const old = previous.get(`${row.topic}:${row.partition}`);
          return {
            topic: row.topic,
            partition: row.partition,
            before: old ? BigInt(old.next_offset) : undefined,
            after: BigInt(row.next_offset),
            epochBefore: old ? BigInt(old.epoch) : undefined,
            epochAfter: BigInt(row.epoch),
            ownerBefore: old?.owner ?? null,
          };
        })
        .sort(compareTopicPartition);
      if (options.dryRun) throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return result;
}

/** Stored offsets of a group (optionally one topic), for status output and lag. */
export async function readOffsets(sequelize: Sequelize, group: string, topic?: string): Promise<StoredOffset[]> {
  const rows = await selectRows<OffsetRow>(
    sequelize,
    `SELECT topic, partition, next_offset, epoch, owner, updated_at, last_commit_id FROM stream_offsets
     WHERE group_id = $group AND ($topic::text IS NULL OR topic = $topic::text)
     ORDER BY topic, partition`,
    { group, topic: topic ?? null },
  );
  return rows.map((row) => ({ ...toClaimed(row), owner: row.owner, updatedAt: row.updated_at, lastCommitId: row.last_commit_id ?? null }));
}

function describeFence(commit: OffsetCommit, current: OffsetRow | undefined): string {
  if (!current) return `group ${commit.group} has no offset row (never claimed)`;
  if (BigInt(current.epoch) !== commit.epoch) {
    return `epoch ${commit.epoch} is stale: now ${current.epoch}, owned by ${current.owner ?? 'nobody'}`;
  }
  return `expected next offset ${commit.expectedNextOffset} but the stored one is ${current.next_offset}`;
}

function toClaimed(row: OffsetRow): StoredClaim {
  return {
    topic: row.topic,
    partition: row.partition,
    nextOffset: BigInt(row.next_offset),
    epoch: BigInt(row.epoch),
    ...(row.origin_watermarks ? { originWatermarks: row.origin_watermarks } : {}),
  };
}

function compareTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
