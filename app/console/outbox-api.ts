/**
 * The outbox's parked rows (GET /api/outbox/parked) and their retry (POST /api/outbox/retry),
 * what `topology outbox --parked | --retry` does on the command line.
 */
import type { Executor } from '../../state/sql.ts';
import { listParked, unparkRows } from '../../state/outbox-store.ts';
import { HttpError } from './http-server.ts';

export interface ParkedRowJson {
  id: string;
  topic: string;
  key: string | null;
  eventId: string;
  /** Always 1: the relay parks single records (a row of several is split first, sinks/outbox-relay.ts). */
  records: number;
  parkedAt: string;
  error: string;
}

export async function parkedRows(executor: Executor, limit = 1000): Promise<{ rows: ParkedRowJson[] }> {
  const rows = await listParked(executor, limit);
  return { rows: rows.map((row) => ({ id: String(row.id), topic: row.topic, key: row.key, eventId: row.eventId, records: 1, parkedAt: row.parkedAt.toISOString(), error: row.error })) };
}

/** `{ ids: ["12", ...] }`: outbox row ids as decimal strings (64-bit). Pure. */
export function parseRetryBody(body: unknown): bigint[] {
  const ids = (body as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000) throw new HttpError(400, 'expected { "ids": ["<outbox row id>", ...] } with 1 to 10000 ids');
  return [...new Set(ids.map((id) => {
    if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id)) throw new HttpError(400, `not an outbox row id: ${JSON.stringify(id)}`);
    return id;
  }))].map((id) => BigInt(id));
}

export async function retryParked(executor: Executor, ids: readonly bigint[]): Promise<{ retried: number }> {
  return { retried: (await unparkRows(executor, ids)).length };
}
