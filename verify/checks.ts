/**
 * The verifier's verdict: pure checks over what the run left behind (the database, the topics,
 * the processes' fates) and what it sent. `findOrderFlowViolations` owns the order flow's
 * invariants; these add the source's, dead-letter, outbox and process checks around it.
 */
import { decodeOrderCreated, type OrderLine, orderKey } from '../processors/events.ts';
import { DLQ_HEADERS } from '../sinks/dead-letter.ts';
import { findOrderFlowViolations, type OrderFlowSnapshot } from './order-flow-invariants.ts';
import { POISON_HEADER, type PoisonRecord } from './poison.ts';

/** A record as read back from a topic. */
export interface TopicRecord {
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface OutboxState {
  /** Rows neither published nor parked. */
  unpublished: number;
  /** Undefined when the schema has no parking columns (outbox.parked_at, outbox.park_error). */
  parked: Array<{ id: string; eventId: string; reason: string | null }> | undefined;
}

export interface UnexpectedExit {
  role: string;
  code: number | null;
  signal: string | null;
  atMs: number;
  lastLines: string[];
}

export interface VerifySnapshot {
  orderFlow: OrderFlowSnapshot;
  /** Records of the InventoryUpdated and outcome topics that are not the event their topic carries. */
  undecodable: string[];
  ordersTopic: string;
  orderRecords: TopicRecord[];
  dlqRecords: TopicRecord[];
  poison: PoisonRecord[];
  outbox: OutboxState;
  /** Undefined when the pipeline settled: everything consumed and published. */
  unsettled: string | undefined;
  unexpectedExits: UnexpectedExit[];
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Every violation (the detail shows the first few). */
  violations: string[];
}

const SHOWN = 5;

export function check(name: string, violations: string[], okDetail: string): CheckResult {
  const shown = violations.slice(0, SHOWN).join('; ');
  const more = violations.length > SHOWN ? ` (+${violations.length - SHOWN} more)` : '';
  return { name, ok: violations.length === 0, detail: violations.length === 0 ? okDetail : `${violations.length} violation(s): ${shown}${more}`, violations };
}

export function runChecks(snapshot: VerifySnapshot): CheckResult[] {
  const { orderFlow } = snapshot;
  const outcomeEvents = orderFlow.confirmed.length + orderFlow.rejected.length + orderFlow.cancelled.length + orderFlow.restocked.length;
  return [
    check('settled', snapshot.unsettled ? [snapshot.unsettled] : [], 'every partition of every consumed topic consumed to its end, outbox drained'),
    check(
      'order flow invariants',
      orderFlowViolations(orderFlow),
      `${orderFlow.inventory.length} products, ${orderFlow.inventoryUpdates.length} InventoryUpdated, ${outcomeEvents} outcome events, ${orderFlow.restocksSent.length} restocks and ${orderFlow.cancellationsSent.length} cancellations sent`,
    ),
    checkNothingPending(orderFlow),
    checkPublishedOnce(snapshot),
    checkPoisonDeadLettered(snapshot),
    check('events decode', snapshot.undecodable, 'every record of InventoryUpdated and the outcome topics is the event its topic carries'),
    checkOutbox(snapshot.outbox),
    check(
      'no role exited by itself',
      snapshot.unexpectedExits.map((exit) => `${exit.role} exited (code ${exit.code}, signal ${exit.signal}) at ${Math.round(exit.atMs / 1000)}s: ${exit.lastLines.slice(-3).join(' | ').slice(0, 600)}`),
      'every exit was one the verifier caused',
    ),
  ];
}

const UNDECIDED = new Set(['pending', 'reserving']);

/** Undecided orders have a check of their own: left out here, so the other violations are not buried under them. */
function orderFlowViolations(orderFlow: OrderFlowSnapshot): string[] {
  const undecided = new Set(orderFlow.orders.filter((order) => UNDECIDED.has(order.status)).map((order) => `order ${order.id} is still ${order.status}`));
  return findOrderFlowViolations(orderFlow).filter((violation) => !undecided.has(violation));
}

function checkNothingPending(orderFlow: OrderFlowSnapshot): CheckResult {
  const counts = new Map<string, number>();
  const violations: string[] = [];
  for (const order of orderFlow.orders) {
    counts.set(order.status, (counts.get(order.status) ?? 0) + 1);
    if (UNDECIDED.has(order.status)) violations.push(`order ${order.id} (lines ${listLines(order.lines)}) is ${order.status}`);
  }
  const summary = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  return check('every order decided', violations, `${orderFlow.orders.length} orders: ${summary || 'none'}`);
}

/**
 * Every stored order is on the orders topic as OrderCreated under exactly one event id (copies
 * from a re-publish must be that same event, with the stored lines in their order), and nothing
 * but the poison records claims an order that was never stored.
 */
function checkPublishedOnce(snapshot: VerifySnapshot): CheckResult {
  const violations: string[] = [];
  const stored = new Map(snapshot.orderFlow.orders.map((order) => [order.id, order]));
  const poisonIds = new Set(snapshot.poison.map((record) => record.id));
  const eventIds = new Map<string, Set<string>>();
  let records = 0;
  let copies = 0;
  for (const record of snapshot.orderRecords) {
    const poisonId = record.headers[POISON_HEADER];
    if (poisonId !== undefined && poisonIds.has(poisonId)) continue;
    records++;
    let event: ReturnType<typeof decodeOrderCreated>;
    try {
      event = decodeOrderCreated(record.value);
    } catch (error) {
      violations.push(`${snapshot.ordersTopic}[${record.partition}]@${record.offset} is not an OrderCreated: ${(error as Error).message}`);
      continue;
    }
    const { orderId, lines } = event.payload;
    const order = stored.get(orderId);
    if (!order) {
      violations.push(`OrderCreated ${event.eventId} at [${record.partition}]@${record.offset} names an order that is not stored`);
      continue;
    }
    if (listLines(lines) !== listLines(order.lines)) violations.push(`OrderCreated for ${orderId} says lines ${listLines(lines)}, stored ${listLines(order.lines)}`);
    if (record.key !== orderKey(event.payload)) violations.push(`OrderCreated for ${orderId} has key ${record.key}, not its lead product id ${lines[0]!.productId}`);
    const ids = eventIds.get(orderId) ?? new Set<string>();
    if (ids.size > 0) copies++;
    ids.add(event.eventId);
    eventIds.set(orderId, ids);
  }
  for (const order of snapshot.orderFlow.orders) {
    const ids = eventIds.get(order.id);
    if (!ids) violations.push(`order ${order.id} is stored but was never published`);
    else if (ids.size !== 1) violations.push(`order ${order.id} was published under ${ids.size} event ids: ${[...ids].join(', ')}`);
  }
  return check('every order published once', violations, `${records} OrderCreated records for ${eventIds.size} orders (${copies} identical re-publishes)`);
}

/** Lines in their order (the lead line first, as the source publishes them): `3x2, 17x1` is product 3 × 2, then 17 × 1. */
function listLines(lines: readonly OrderLine[]): string {
  return lines.map((line) => `${line.productId}x${line.quantity}`).join(', ');
}

function checkPoisonDeadLettered(snapshot: VerifySnapshot): CheckResult {
  const violations: string[] = [];
  const located = new Map<string, TopicRecord>();
  for (const record of snapshot.orderRecords) {
    const id = record.headers[POISON_HEADER];
    if (id !== undefined) located.set(id, record);
  }
  const deadLetters = new Set(
    snapshot.dlqRecords.map((record) => `${record.headers[DLQ_HEADERS.topic]}/${record.headers[DLQ_HEADERS.partition]}/${record.headers[DLQ_HEADERS.offset]}`),
  );
  const storedIds = new Set(snapshot.orderFlow.orders.map((order) => order.id));
  for (const poison of snapshot.poison) {
    const record = located.get(poison.id);
    if (!record) {
      violations.push(`${poison.kind} (${poison.id}) is not on ${snapshot.ordersTopic}`);
      continue;
    }
    if (!deadLetters.has(`${snapshot.ordersTopic}/${record.partition}/${record.offset}`)) {
      violations.push(`${poison.kind} at ${snapshot.ordersTopic}[${record.partition}]@${record.offset} has no dead letter`);
    }
    if (poison.orderId !== undefined && storedIds.has(poison.orderId)) violations.push(`${poison.kind}'s order ${poison.orderId} was stored`);
  }
  const extra = snapshot.dlqRecords.length - snapshot.poison.filter((poison) => located.has(poison.id)).length;
  return check(
    'every poison record dead-lettered',
    violations,
    snapshot.poison.length === 0 ? `no poison produced; ${snapshot.dlqRecords.length} dead letters` : `${snapshot.poison.length} poison records, all in the DLQ${extra > 0 ? ` (${extra} other dead letters)` : ''}`,
  );
}

function checkOutbox(outbox: OutboxState): CheckResult {
  const violations: string[] = [];
  if (outbox.unpublished > 0) violations.push(`${outbox.unpublished} outbox rows neither published nor parked`);
  for (const row of outbox.parked ?? []) {
    if (row.reason === null || row.reason.trim() === '') violations.push(`outbox row ${row.id} (${row.eventId}) is parked without a reason`);
  }
  const parked = outbox.parked === undefined ? 'no parking columns in this schema' : `${outbox.parked.length} parked, each with a reason`;
  return check('outbox drained', violations, `nothing unpublished; ${parked}`);
}

/** What became of one fault of the schedule. */
export interface FaultOutcome {
  kind: string;
  target: string;
  plannedAtMs: number;
  startedAtMs: number | undefined;
  /** When the service (or role) was back: restarted broker answering, SIGCONT sent, role respawned. */
  backAtMs: number | undefined;
  /** From back until processing resumed; undefined when it did not within the window. */
  recoveryMs: number | undefined;
  detail: string;
  error: string | undefined;
}

export function checkRecoveries(outcomes: readonly FaultOutcome[], boundMs: number): CheckResult {
  const violations: string[] = [];
  for (const outcome of outcomes) {
    const name = `${outcome.kind}${outcome.target ? ` (${outcome.target})` : ''}`;
    if (outcome.error !== undefined) violations.push(`${name} could not be carried out: ${outcome.error}`);
    else if (outcome.startedAtMs === undefined) violations.push(`${name} never ran (the load ended first)`);
    else if (outcome.recoveryMs === undefined) violations.push(`${name}: processing did not resume (${outcome.detail})`);
    else if (outcome.recoveryMs > boundMs) violations.push(`${name}: processing resumed ${(outcome.recoveryMs / 1000).toFixed(1)}s after ${outcome.backAtMs === outcome.startedAtMs ? 'the fault' : 'the service came back'} (bound ${boundMs / 1000}s; ${outcome.detail})`);
  }
  return check(`recovery within ${boundMs / 1000}s`, violations, outcomes.length === 0 ? 'no faults scheduled' : `${outcomes.length} fault(s), each recovered in time`);
}
