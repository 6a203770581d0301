/**
 * The `processed` table the runtime workers write one row per record to, and the queries
 * that tell whether every record was processed exactly once.
 */
import type { Sequelize } from 'sequelize';
import { selectRows } from '../../../state/sql.ts';

/** Keyed by a fresh id per processing, not by the record: a record processed twice must show up, not be refused. */
export const PROCESSED_TABLE_DDL =
  'CREATE TABLE processed (id UUID PRIMARY KEY, topic TEXT NOT NULL, partition INT NOT NULL, record_offset BIGINT NOT NULL, worker TEXT NOT NULL)';

export async function countProcessed(sequelize: Sequelize, worker?: string): Promise<number> {
  const [row] = await selectRows<{ count: string }>(sequelize, 'SELECT count(*) AS count FROM processed WHERE $worker::text IS NULL OR worker = $worker::text', {
    worker: worker ?? null,
  });
  return Number(row?.count ?? 0);
}

export interface ExactlyOnceReport {
  /** Records with more than one row (first few). */
  duplicates: Array<{ partition: number; offset: string; rows: number }>;
  /** Partitions whose distinct offsets are not exactly 0..highWatermark-1. */
  gaps: Array<{ partition: number; distinct: number; min: string | null; max: string | null; highWatermark: string }>;
  total: number;
}

export async function exactlyOnceReport(sequelize: Sequelize, topic: string, highWatermarks: Map<number, bigint>): Promise<ExactlyOnceReport> {
  const duplicates = await selectRows<{ partition: number; offset: string; rows: string }>(
    sequelize,
    `SELECT partition, record_offset AS offset, count(*) AS rows FROM processed WHERE topic = $topic
     GROUP BY partition, record_offset HAVING count(*) > 1 ORDER BY partition, record_offset LIMIT 10`,
    { topic },
  );
  const perPartition = await selectRows<{ partition: number; distinct: string; min: string | null; max: string | null }>(
    sequelize,
    `SELECT partition, count(DISTINCT record_offset) AS distinct, min(record_offset) AS min, max(record_offset) AS max
     FROM processed WHERE topic = $topic GROUP BY partition`,
    { topic },
  );
  const byPartition = new Map(perPartition.map((row) => [row.partition, row]));
  const gaps: ExactlyOnceReport['gaps'] = [];
  for (const [partition, highWatermark] of [...highWatermarks].sort(([a], [b]) => a - b)) {
    const row = byPartition.get(partition);
    const distinct = Number(row?.distinct ?? 0);
    const complete = distinct === Number(highWatermark) && (highWatermark === 0n || (row?.min === '0' && row?.max === String(highWatermark - 1n)));
    if (!complete) gaps.push({ partition, distinct, min: row?.min ?? null, max: row?.max ?? null, highWatermark: String(highWatermark) });
  }
  const [total] = await selectRows<{ count: string }>(sequelize, 'SELECT count(*) AS count FROM processed WHERE topic = $topic', { topic });
  return {
    duplicates: duplicates.map((row) => ({ partition: row.partition, offset: row.offset, rows: Number(row.rows) })),
    gaps,
    total: Number(total?.count ?? 0),
  };
}
