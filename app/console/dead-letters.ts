/**
 * The dead-letter topic as the console shows it (GET /api/dead-letters, /api/dead-letters/:p/:o):
 * read from Kafka through the client port, newest first, each letter with the provenance headers
 * sinks/dead-letter.ts wrote and when it was replayed (dead_letter_replays).
 */
import type { Sequelize } from 'sequelize';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../../kafka/port.ts';
import { DLQ_HEADERS } from '../../sinks/dead-letter.ts';
import { letterKey, replayTimes } from '../../state/dead-letter-replay-store.ts';
import { HttpError } from './http-server.ts';
import { type PartitionRange, partitionBounds, readRanges, tailRanges } from './topic-reader.ts';

export interface DeadLetterSummary {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  errorClass: string;
  errorMessage: string;
  /** Bytes of the record's value (the original record's bytes). */
  size: number;
  replayedAt: string | null;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  payload: { text: string | null; base64: string };
}

export interface DeadLetterDeps {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  sequelize: Sequelize;
  dlqTopic: string;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** `?limit=N`: 1..MAX_LIMIT, DEFAULT_LIMIT when absent. Pure. */
export function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) throw new HttpError(400, `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `:partition/:offset` of a letter. Pure. */
export function parseLetterPosition(partition: unknown, offset: unknown): { partition: number; offset: bigint } {
  if (typeof partition === 'number' && Number.isInteger(partition)) partition = String(partition);
  if (typeof partition !== 'string' || !/^\d{1,9}$/.test(partition)) throw new HttpError(400, `partition: expected a partition number, got ${JSON.stringify(partition)}`);
  if (typeof offset !== 'string' || !/^\d{1,19}$/.test(offset) || BigInt(offset) > 9_223_372_036_854_775_807n) throw new HttpError(400, `offset: expected an offset as a decimal string, got ${JSON.stringify(offset)}`);
  return { partition: Number(partition), offset: BigInt(offset) };
}

/** The record as the console shows it. Pure. */
export function summarize(record: ConsumedRecord, replayedAt: Date | undefined): DeadLetterSummary {
  const headers = record.headers;
  return {
    partition: record.partition,
    offset: record.offset.toString(),
    timestamp: new Date(record.timestamp).toISOString(),
    key: record.key === null ? null : record.key.toString('utf8'),
    headers,
    originalTopic: headers[DLQ_HEADERS.topic] ?? '',
    originalPartition: Number(headers[DLQ_HEADERS.partition] ?? -1),
    originalOffset: headers[DLQ_HEADERS.offset] ?? '',
    errorClass: headers[DLQ_HEADERS.errorClass] ?? '',
    errorMessage: headers[DLQ_HEADERS.message] ?? '',
    size: record.value?.length ?? 0,
    replayedAt: replayedAt === undefined ? null : replayedAt.toISOString(),
  };
}

/** The payload as text when it is valid UTF-8 (JSON, mostly), and always as base64. Pure. */
export function payloadOf(value: Buffer | null): { text: string | null; base64: string } {
  const bytes = value ?? Buffer.alloc(0);
  let text: string | null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  return { text, base64: bytes.toString('base64') };
}

/** The newest `limit` letters over every partition of the topic, newest first (by timestamp, then offset). */
export async function listDeadLetters(deps: DeadLetterDeps, limit: number): Promise<{ topic: string; letters: DeadLetterSummary[] }> {
  const bounds = await partitionBounds(deps.admin, deps.dlqTopic);
  const records = await readRanges(deps.kafka, deps.dlqTopic, tailRanges(bounds, limit));
  const newest = records.sort((a, b) => b.timestamp - a.timestamp || (b.offset > a.offset ? 1 : b.offset < a.offset ? -1 : b.partition - a.partition)).slice(0, limit);
  const replayed = await replayTimes(deps.sequelize, deps.dlqTopic, newest);
  return { topic: deps.dlqTopic, letters: newest.map((record) => summarize(record, replayed.get(letterKey(record)))) };
}

/**
 * These letters' records from the topic, in the order asked; 404 naming the first the topic
 * does not hold. Letters close together are read as one range (a selection is usually a run).
 */
export async function readDeadLetters(deps: Pick<DeadLetterDeps, 'kafka' | 'admin' | 'dlqTopic'>, positions: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<ConsumedRecord[]> {
  const bounds = await partitionBounds(deps.admin, deps.dlqTopic);
  const missing = (position: { partition: number; offset: bigint }) => new HttpError(404, `no dead letter at ${deps.dlqTopic} partition ${position.partition} offset ${position.offset}`);
  for (const position of positions) {
    const partition = bounds.get(position.partition);
    if (partition === undefined || position.offset < partition.start || position.offset >= partition.end) throw missing(position);
  }
  const records = await readRanges(deps.kafka, deps.dlqTopic, rangesAround(positions));
  const byPosition = new Map(records.map((record) => [letterKey(record), record]));
  return positions.map((position) => {
    const record = byPosition.get(letterKey(position));
    if (record === undefined) throw missing(position);
    return record;
  });
}

/** Ranges covering the offsets, one per run of offsets less than `gap` apart. Pure. */
export function rangesAround(positions: ReadonlyArray<{ partition: number; offset: bigint }>, gap = 500n): PartitionRange[] {
  const ranges: PartitionRange[] = [];
  const partitions = [...new Set(positions.map((position) => position.partition))].sort((a, b) => a - b);
  for (const partition of partitions) {
    const offsets = positions.filter((position) => position.partition === partition).map((position) => position.offset).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let current: PartitionRange | undefined;
    for (const offset of offsets) {
      if (current !== undefined && offset - (current.to - 1n) < gap) {
        if (offset + 1n > current.to) current.to = offset + 1n;
      } else {
        current = { partition, from: offset, to: offset + 1n };
        ranges.push(current);
      }
    }
  }
  return ranges;
}

export async function deadLetterDetail(deps: DeadLetterDeps, position: { partition: number; offset: bigint }): Promise<DeadLetterDetail> {
  const [record] = await readDeadLetters(deps, [position]);
  if (record === undefined) throw new HttpError(404, `no dead letter at partition ${position.partition} offset ${position.offset}`);
  const replayed = await replayTimes(deps.sequelize, deps.dlqTopic, [record]);
  return { ...summarize(record, replayed.get(letterKey(record))), payload: payloadOf(record.value) };
}
