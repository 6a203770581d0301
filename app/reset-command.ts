/**
 * `topology reset`: rewrites a consumer group's stored offsets (`stream_offsets`), like Kafka
 * Streams' application reset tool does with Kafka's. The database is the source of truth
 * here, so that is where the offsets move; Kafka's committed offsets stay informational.
 *
 * Safe by construction: it refuses while the group has active members (unless --force), and
 * every rewritten partition's epoch is bumped, so a replica still holding the partition fails
 * its next commit (fenced) and claims it again from the new offset.
 */
import type { Sequelize } from 'sequelize';
import type { FlagSpec } from '../core/cli.ts';
import { loadConfig } from '../core/config.ts';
import { ConfigError, errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { GroupMemberInfo, KafkaAdmin } from '../kafka/port.ts';
import { connectDatabase } from '../state/db.ts';
import { type OffsetRewrite, rewriteOffsets } from '../state/offset-store.ts';

export const RESET_FLAGS: FlagSpec = {
  group: { type: 'string' },
  topic: { type: 'string' },
  partitions: { type: 'string' },
  'to-earliest': { type: 'boolean' },
  'to-latest': { type: 'boolean' },
  'to-offset': { type: 'string' },
  'to-datetime': { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
};

export const RESET_USAGE = `Usage: npm run topology -- reset --group G --topic T (--to-earliest | --to-latest | --to-offset N | --to-datetime ISO)
                              [--partitions 0,1,..] [--dry-run] [--force] [--json]

Rewrites the consumer group's stored offsets in PostgreSQL (stream_offsets), where processing
resumes. Each rewritten partition's epoch goes up by one, so a replica still holding it is fenced
on its next commit and claims it again from the new offset. Prints a before/after table.

Options:
  --group G              the consumer group (CONSUMER_GROUP of the processors)
  --topic T              the source topic
  --to-earliest          the log start of each partition (reprocess everything the topic holds)
  --to-latest            the log end of each partition (skip everything not processed yet)
  --to-offset N          offset N, clamped to each partition's log start..end
  --to-datetime ISO      the first record at or after this time (e.g. 2026-12-01T09:30:00Z; no
                         timezone means UTC); the log end where no record is that recent
  --partitions 0,1,..    only these partitions (default: every partition of the topic)
  --dry-run              show what would change, change nothing
  --force                rewrite even while the group has active members (a running owner is fenced
                         and re-claims from the new offset; records it had not committed are redone)
  --json                 print the result as JSON
  -h, --help             this help

Exit codes:
  0  offsets rewritten (or, with --dry-run, shown)
  1  PostgreSQL or Kafka unreachable, or an unexpected error
  2  bad flags or settings (one line naming the flag)
  3  refused: the group has active members (they are named); stop them or add --force
`;

export type ResetTarget = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'datetime'; timestamp: number; iso: string };

export interface ResetRequest {
  group: string;
  topic: string;
  target: ResetTarget;
  /** Undefined: every partition of the topic. */
  partitions?: number[];
  dryRun: boolean;
  force: boolean;
}

export interface ResetRow extends OffsetRewrite {
  logStartOffset: bigint;
  logEndOffset: bigint;
}

export type ResetReport =
  | { outcome: 'refused'; group: string; topic: string; members: GroupMemberInfo[] }
  | { outcome: 'rewritten' | 'dry-run'; group: string; topic: string; target: string; members: GroupMemberInfo[]; partitions: ResetRow[] };

/** Parses and checks the flags; every mistake is a ConfigError (one line, exit 2). */
export function parseResetFlags(flags: Record<string, string | undefined>): ResetRequest {
  const group = requireText(flags, 'group');
  const topic = requireText(flags, 'topic');
  const chosen = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime'].filter((flag) => flags[flag] !== undefined);
  if (chosen.length !== 1) {
    throw new ConfigError('--to-*', 'exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime ISO', chosen.length === 0 ? undefined : chosen.map((flag) => `--${flag}`).join(' '));
  }
  return { group, topic, target: parseTarget(chosen[0]!, flags), partitions: parsePartitions(flags.partitions), dryRun: flags['dry-run'] === 'true', force: flags.force === 'true' };
}

function requireText(flags: Record<string, string | undefined>, flag: string): string {
  const value = flags[flag];
  if (value === undefined || value.trim() === '') throw new ConfigError(`--${flag}`, 'a non-empty name', value);
  return value;
}

function parseTarget(flag: string, flags: Record<string, string | undefined>): ResetTarget {
  if (flag === 'to-earliest') return { kind: 'earliest' };
  if (flag === 'to-latest') return { kind: 'latest' };
  const raw = flags[flag]!;
  if (flag === 'to-offset') {
    if (!/^\d+$/.test(raw)) throw new ConfigError('--to-offset', 'a non-negative integer', raw);
    return { kind: 'offset', offset: BigInt(raw) };
  }
  // A date and a time, optional seconds and fraction, optional zone; without a zone, UTC.
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:\d{2})?$/.exec(raw);
  const timestamp = match ? Date.parse(`${match[1]}${match[2] ?? 'Z'}`) : Number.NaN;
  if (!match || Number.isNaN(timestamp)) throw new ConfigError('--to-datetime', 'an ISO date-time such as 2026-12-01T09:30:00Z', raw);
  return { kind: 'datetime', timestamp, iso: new Date(timestamp).toISOString() };
}

function parsePartitions(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => !/^\d+$/.test(part))) throw new ConfigError('--partitions', 'a comma-separated list of partition numbers such as 0,1,2', raw);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

function describeTarget(target: ResetTarget): string {
  switch (target.kind) {
    case 'earliest':
      return 'earliest';
    case 'latest':
      return 'latest';
    case 'offset':
      return `offset ${target.offset}`;
    case 'datetime':
      return `datetime ${target.iso}`;
  }
}

/** Computes the new offsets from the broker, checks the group is idle, and rewrites (or, dry, shows). */
export async function resetOffsets(deps: { sequelize: Sequelize; admin: KafkaAdmin }, request: ResetRequest): Promise<ResetReport> {
  const { group, topic, target } = request;
  const partitionCount = await deps.admin.partitionCount(topic);
  if (partitionCount === undefined) throw new ConfigError('--topic', 'an existing topic', topic);
  const partitions = request.partitions ?? Array.from({ length: partitionCount }, (_, index) => index);
  const missing = partitions.filter((partition) => partition >= partitionCount);
  if (missing.length > 0) throw new ConfigError('--partitions', `partitions of ${topic} (0..${partitionCount - 1})`, missing.join(','));

  const members = await deps.admin.groupMembers(group);
  if (members.length > 0 && !request.force && !request.dryRun) return { outcome: 'refused', group, topic, members };

  const [starts, ends] = await Promise.all([deps.admin.listOffsets(topic, 'earliest'), deps.admin.listOffsets(topic, 'latest')]);
  const byTime = target.kind === 'datetime' ? await deps.admin.listOffsets(topic, { timestamp: target.timestamp }) : undefined;
  const bounds = new Map(partitions.map((partition) => [partition, { logStartOffset: starts.get(partition) ?? 0n, logEndOffset: ends.get(partition) ?? 0n }]));
  const targets = partitions.map((partition) => {
    const { logStartOffset, logEndOffset } = bounds.get(partition)!;
    const wanted =
      target.kind === 'earliest' ? logStartOffset : target.kind === 'latest' ? logEndOffset : target.kind === 'offset' ? target.offset : (byTime!.get(partition) ?? logEndOffset);
    return { topic, partition, nextOffset: clamp(wanted, logStartOffset, logEndOffset) };
  });
  const rewritten = await rewriteOffsets(deps.sequelize, group, targets, { dryRun: request.dryRun });
  return {
    outcome: request.dryRun ? 'dry-run' : 'rewritten',
    group,
    topic,
    target: describeTarget(target),
    members,
    partitions: rewritten.map((row) => ({ ...row, ...bounds.get(row.partition)! })),
  };
}

/** Kafka's reset tool clamps too: an offset outside the log would be out of range on the next fetch. */
function clamp(value: bigint, low: bigint, high: bigint): bigint {
  if (value < low) return low;
  if (value > high) return high;
  return value;
}

export function formatResetReport(report: ResetReport): string {
  const memberList = report.members.map((member) => `${member.clientId} (${member.host}, member ${member.memberId})`).join(', ');
  if (report.outcome === 'refused') {
    return `refused: consumer group ${report.group} has ${report.members.length} active member(s): ${memberList}. Stop them first, or add --force (a running owner is fenced and re-claims from the new offset).`;
  }
  const header = ['partition', 'before', 'after', 'epoch', 'log start', 'log end', 'owner before'];
  const rows = report.partitions.map((row) => [
    String(row.partition),
    row.before === undefined ? '-' : String(row.before),
    String(row.after),
    `${row.epochBefore ?? '-'} -> ${row.epochAfter}`,
    String(row.logStartOffset),
    String(row.logEndOffset),
    row.ownerBefore ?? '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const title =
    report.outcome === 'dry-run'
      ? `dry run: group ${report.group}, topic ${report.topic}, to ${report.target} (nothing changed)`
      : `reset group ${report.group}, topic ${report.topic}, to ${report.target}`;
  const forced = report.members.length > 0 ? [`${report.outcome === 'dry-run' ? 'note' : 'forced'}: the group has active members: ${memberList}`] : [];
  return [title, ...forced, line(header), ...rows.map(line)].join('\n');
}

export function resetReportJson(report: ResetReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2);
}

export const RESET_REFUSED_EXIT = 3;

export async function resetCommand(flags: Record<string, string | undefined>): Promise<number> {
  const request = parseResetFlags(flags);
  const config = loadConfig(process.env, {});
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { poolMax: 2 });
  let admin: KafkaAdmin | undefined;
  try {
    try {
      admin = await createKafkaClient(config, logger).admin();
      await admin.listTopics();
    } catch (error) {
      throw new ServiceUnavailableError('Kafka', `cannot reach ${config.kafkaBrokers.join(',')} (${errorMessage(error)})`, error);
    }
    const report = await resetOffsets({ sequelize, admin }, request);
    if (flags.json === 'true') process.stdout.write(`${resetReportJson(report)}\n`);
    else if (report.outcome === 'refused') process.stderr.write(`error: ${formatResetReport(report)}\n`);
    else process.stdout.write(`${formatResetReport(report)}\n`);
    return report.outcome === 'refused' ? RESET_REFUSED_EXIT : 0;
  } finally {
    await admin?.close().catch(() => {});
    await sequelize.close().catch(() => {});
  }
}
