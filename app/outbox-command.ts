/**
 * `topology outbox --parked | --retry`: shows the outbox rows the relay parked (the broker can
 * never accept them as they are) and makes them pending again once the cause is fixed.
 */
import type { FlagSpec } from '../core/cli.ts';
import { loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { connectDatabase } from '../state/db.ts';
import { listParked, type ParkedRow, unparkRows } from '../state/outbox-store.ts';
import { formatTable } from './status.ts';

export const OUTBOX_FLAGS: FlagSpec = {
  parked: { type: 'boolean' },
  json: { type: 'boolean' },
  retry: { type: 'boolean' },
  id: { type: 'string' },
  all: { type: 'boolean' },
};

export const OUTBOX_USAGE = `Usage: npm run topology -- outbox --parked [--json]
       npm run topology -- outbox --retry (--id N[,N...] | --all)

Parked rows are outbox rows the relay set aside because the broker can never accept them as
they are: larger than their topic's max.message.bytes on their own, or refused for good (for
example a record without a key on a compacted topic). They do not block the rows behind them.

Options:
  --parked          list parked rows: id, topic, key, bytes, parked at, error
  --json            with --parked: the list as JSON
  --retry           make parked rows pending again; the leading relay tries them at once
                    (raise the topic's max.message.bytes first, or fix what the error names)
  --id N[,N...]     with --retry: these rows (ids from --parked)
  --all             with --retry: every parked row
  -h, --help        this help

A retried row is published after any row of the same key published meanwhile: consumers keep
the highest version (InventoryUpdated carries one).

Exit codes: 0 done; 1 PostgreSQL unreachable, or an --id that is not parked (the other ids are
retried); 2 bad usage.
`;

type OutboxAction = { action: 'list'; json: boolean } | { action: 'retry'; ids: bigint[] | 'all' };

/** Everything the user typed, checked before any connection. */
export function parseOutboxFlags(flags: Record<string, string | undefined>): OutboxAction {
  const parked = flags.parked !== undefined;
  const retry = flags.retry !== undefined;
  if (parked === retry) throw new ConfigError('outbox', 'exactly one of --parked or --retry', parked ? '--parked --retry' : undefined);
  if (parked) {
    if (flags.id !== undefined || flags.all !== undefined) throw new ConfigError('--id/--all', 'to be used with --retry', flags.id ?? '--all');
    return { action: 'list', json: flags.json !== undefined };
  }
  if (flags.json !== undefined) throw new ConfigError('--json', 'to be used with --parked', '--json');
  if ((flags.id === undefined) === (flags.all === undefined)) throw new ConfigError('--retry', 'exactly one of --id N[,N...] or --all', flags.id);
  if (flags.all !== undefined) return { action: 'retry', ids: 'all' };
  const raw = flags.id!;
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.some((part) => !/^[1-9]\d{0,18}$/.test(part))) throw new ConfigError('--id', 'outbox row ids (positive integers), comma-separated', raw);
  return { action: 'retry', ids: [...new Set(parts)].map((part) => BigInt(part)) };
}

export async function outboxCommand(flags: Record<string, string | undefined>): Promise<number> {
  const action = parseOutboxFlags(flags);
  const config = loadConfig(process.env, {});
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { poolMax: 1 });
  try {
    if (action.action === 'list') {
      const rows = await listParked(sequelize);
      process.stdout.write(action.json ? `${JSON.stringify(rows.map(toJson), null, 2)}\n` : `${formatParked(rows)}\n`);
      return 0;
    }
    const unparked = await unparkRows(sequelize, action.ids);
    process.stdout.write(`retrying ${unparked.length} parked row(s)${unparked.length > 0 ? `: ${unparked.join(',')}` : ''}\n`);
    if (action.ids === 'all') return 0;
    const done = new Set(unparked);
    const missing = action.ids.filter((id) => !done.has(id));
    if (missing.length === 0) return 0;
    process.stderr.write(`error: not parked (no such row, already published, or already retried): ${missing.join(',')}\n`);
    return 1;
  } finally {
    await sequelize.close();
  }
}

function toJson(row: ParkedRow) {
  return { id: String(row.id), eventId: row.eventId, topic: row.topic, key: row.key, bytes: row.bytes, error: row.error, parkedAt: row.parkedAt.toISOString(), createdAt: row.createdAt.toISOString() };
}

export function formatParked(rows: ParkedRow[]): string {
  if (rows.length === 0) return 'no parked outbox rows';
  const body = rows.map((row) => [String(row.id), row.topic, row.key ?? '-', String(row.bytes), row.parkedAt.toISOString(), row.error]);
  return [`${rows.length} parked outbox row(s); retry with: npm run topology -- outbox --retry --id N[,N...] | --all`, '', formatTable(['id', 'topic', 'key', 'bytes', 'parked at', 'error'], body)].join('\n');
}
