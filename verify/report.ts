/** What the verifier prints: a progress line while it runs, then a table, or JSON. Pure. */

import { formatDuration } from '../core/numbers.ts';
import { CANCELLATION_RESULTS } from '../processors/outcome-events.ts';
import type { CheckResult, FaultOutcome, VerifySnapshot } from './checks.ts';
import type { Sample } from './recovery.ts';

/** What the run amounted to: orders by status and their lines, the commands it sent and what became of them, the events. */
export interface RunTotals {
  orders: number;
  lines: number;
  /** Orders per status, every status listed (0 included). */
  statuses: Record<string, number>;
  restocks: { sent: number; applied: number; deadLettered: number; unconfirmed: number };
  /** `answers`: OrderCancelled per result, every result listed. */
  cancellations: { sent: number; unconfirmed: number; answers: Record<string, number> };
  inventoryEvents: number;
  outcomeEvents: number;
  deadLetters: number;
}

export interface VerifyResult {
  ok: boolean;
  settings: Record<string, string | number | boolean>;
  /** How long the load ran (longer than --duration when faults were still recovering). */
  loadMs: number;
  totals: RunTotals;
  checks: CheckResult[];
  faults: FaultOutcome[];
  /** Anything that could not be stopped or removed at the end. */
  cleanupProblems: string[];
}

const STATUSES = ['confirmed', 'rejected', 'cancelled', 'reserving', 'pending'];

/** `unconfirmed`: commands whose send failed (they may or may not have arrived). */
export function countTotals(snapshot: VerifySnapshot, unconfirmed: { restocks: number; cancellations: number }): RunTotals {
  const { orderFlow } = snapshot;
  const tally = (keys: readonly string[], values: readonly string[]) => {
    const counts: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]));
    for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  };
  // Copies the relay sent twice are one answer.
  const answers = new Map(orderFlow.cancelled.map(({ event }) => [event.eventId, event.payload.result]));
  return {
    orders: orderFlow.orders.length,
    lines: orderFlow.orders.reduce((sum, order) => sum + order.lines.length, 0),
    statuses: tally(STATUSES, orderFlow.orders.map((order) => order.status)),
    restocks: { sent: orderFlow.restocksSent.length, applied: orderFlow.restocks.length, deadLettered: orderFlow.deadLetteredRestockIds.size, unconfirmed: unconfirmed.restocks },
    cancellations: { sent: orderFlow.cancellationsSent.length, unconfirmed: unconfirmed.cancellations, answers: tally(CANCELLATION_RESULTS, [...answers.values()]) },
    inventoryEvents: orderFlow.inventoryUpdates.length,
    outcomeEvents: orderFlow.confirmed.length + orderFlow.rejected.length + orderFlow.cancelled.length + orderFlow.restocked.length,
    deadLetters: snapshot.dlqRecords.length,
  };
}

export function progressLine(sample: Sample | undefined, progress: { elapsedMs: number; durationMs: number; phase: string; faultsDone: number; faultsTotal: number; next: string | undefined }): string {
  const count = (value: number | undefined) => (value === undefined ? '?' : value.toLocaleString('en-US'));
  let lag: number | undefined;
  if (sample?.offsets && sample.highWatermarks) {
    lag = 0;
    for (const [partition, mark] of sample.highWatermarks) lag += Math.max(0, Number(mark - (sample.offsets.get(partition) ?? 0n)));
  }
  const faults = progress.faultsTotal === 0 ? 'no faults' : `faults ${progress.faultsDone}/${progress.faultsTotal}${progress.next ? `, ${progress.next}` : ''}`;
  return (
    `[${formatDuration(progress.elapsedMs).padStart(6)}/${formatDuration(progress.durationMs)}] ${progress.phase}: ` +
    `orders ${count(sample?.storedOrders)} stored, ${count(sample?.decidedOrders)} decided | events ${count(sample?.publishedEvents)} | ` +
    `lag ${count(lag)} | outbox ${count(sample?.unpublishedOutbox)} | ${faults}`
  );
}

export function formatReport(result: VerifyResult): string {
  const checkRows = result.checks.map((check) => [check.ok ? 'pass' : 'FAIL', check.name, check.detail]);
  const faultRows = result.faults.map((fault) => [
    fault.kind + (fault.target ? ` (${fault.target})` : ''),
    fault.startedAtMs === undefined ? '-' : formatDuration(fault.startedAtMs),
    fault.recoveryMs === undefined ? (fault.error ? 'error' : 'not recovered') : formatDuration(fault.recoveryMs),
    fault.error ?? fault.detail,
  ]);
  const { restocks, cancellations, ...totals } = result.totals;
  const counts = (record: Record<string, number>) => Object.entries(record).map(([name, count]) => `${count} ${name}`).join(', ');
  const unconfirmed = (count: number) => (count > 0 ? `; ${count} in sends that failed, not counted` : '');
  const lines = [
    `verify: ${result.ok ? 'PASS' : 'FAIL'} — ${Object.entries(result.settings).map(([key, value]) => `${key} ${value}`).join(', ')}`,
    `load ran ${formatDuration(result.loadMs)}: ${totals.orders} orders stored with ${totals.lines} lines (${counts(totals.statuses)})`,
    `restocks: ${restocks.sent} sent (${restocks.applied} applied, ${restocks.deadLettered} dead letters${unconfirmed(restocks.unconfirmed)})`,
    `cancellations: ${cancellations.sent} sent; answers: ${counts(cancellations.answers)}${unconfirmed(cancellations.unconfirmed)}`,
    `events: ${totals.inventoryEvents} InventoryUpdated, ${totals.outcomeEvents} outcome events, ${totals.deadLetters} dead letters`,
    '',
    table(['result', 'check', 'detail'], checkRows),
  ];
  if (faultRows.length > 0) lines.push('', table(['fault', 'at', 'recovered in', 'detail'], faultRows));
  for (const failed of result.checks.filter((each) => !each.ok)) {
    lines.push('', `${failed.name} (${failed.violations.length}):`, ...failed.violations.slice(0, SHOWN_VIOLATIONS).map((violation) => `  - ${violation}`));
    if (failed.violations.length > SHOWN_VIOLATIONS) lines.push(`  ... ${failed.violations.length - SHOWN_VIOLATIONS} more (--json has up to 100)`);
  }
  if (typeof result.settings.logs === 'string') lines.push('', `logs of the roles, brokers and PostgreSQL, and a dump of the database (pg/dump.sql): ${result.settings.logs}`);
  if (result.cleanupProblems.length > 0) lines.push('', `cleanup problems: ${result.cleanupProblems.join('; ')}`);
  return lines.join('\n');
}

/** JSON for machines: every violation up to a limit, so a failure can be analysed without the logs. */
export function reportJson(result: VerifyResult, violationLimit = 100): string {
  const checks = result.checks.map((check) => ({ ...check, violations: check.violations.slice(0, violationLimit), violationCount: check.violations.length }));
  return JSON.stringify({ ...result, checks }, null, 2);
}

const MAX_CELL = 160;
const SHOWN_VIOLATIONS = 10;

export function table(header: string[], rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell.length > MAX_CELL ? `${cell.slice(0, MAX_CELL - 1)}…` : cell)));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}
