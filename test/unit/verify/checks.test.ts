import { describe, expect, it } from '@jest/globals';
import type { AnyEvent } from '../../../processors/event-json.ts';
import { encodeEvent, eventHeaders, type OrderLine, orderCreated } from '../../../processors/events.ts';
import { orderConfirmed, orderRejected } from '../../../processors/outcome-events.ts';
import { DLQ_HEADERS } from '../../../sinks/dead-letter.ts';
import { checkRecoveries, type FaultOutcome, runChecks, type TopicRecord, type VerifySnapshot } from '../../../verify/checks.ts';
import type { Published } from '../../../verify/order-flow-model.ts';
import { buildPoisonRecords } from '../../../verify/poison.ts';

const A = '0190a0a0-0000-7000-8000-000000000001';
const B = '0190a0a0-0000-7000-8000-000000000002';

function orderRecord(orderId: string, lines: OrderLine[], offset: bigint, key = String(lines[0]!.productId)): TopicRecord {
  const event = orderCreated({ orderId, customerId: 'c', lines }, 0);
  return { partition: 0, offset, key, value: encodeEvent(event), headers: eventHeaders(event) };
}

function published<E extends AnyEvent>(event: E, key: string): Published<E> {
  return { key, value: encodeEvent(event).toString('utf8'), event };
}

/** Products 1 (stock 5) and 2 (stock 4): A confirmed (1x2, 2x1), B rejected (product 1 out of stock); one InventoryUpdated each; nothing else. */
function healthy(): VerifySnapshot {
  const update = (productId: number, quantity: number, delta: number, reserved: number, refused: number) => ({
    key: String(productId),
    value: '',
    event: { productId, quantity, delta, version: 1, reserved, refused, released: 0, restocked: 0, source: { topic: 'orders', partition: 0, fromOffset: '0', toOffset: '1' } },
  });
  return {
    orderFlow: {
      initialStock: new Map([
        [1, 5],
        [2, 4],
      ]),
      restocksSent: [],
      cancellationsSent: [],
      deadLetteredRestockIds: new Set(),
      orders: [
        { id: A, status: 'confirmed', reason: null, cancelRequest: null, lines: [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }] },
        { id: B, status: 'rejected', reason: 'out_of_stock', cancelRequest: null, lines: [{ productId: 1, quantity: 9 }] },
      ],
      inventory: [
        { productId: 1, quantity: 3, version: 1 },
        { productId: 2, quantity: 3, version: 1 },
      ],
      restocks: [],
      inventoryUpdates: [update(1, 3, -2, 1, 1), update(2, 3, -1, 1, 0)],
      confirmed: [published(orderConfirmed({ orderId: A, lines: [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }] }, 0), A)],
      rejected: [published(orderRejected({ orderId: B, lines: [{ productId: 1, quantity: 9, outcome: 'refused', reason: 'out_of_stock' }] }, 0), B)],
      cancelled: [],
      restocked: [],
    },
    undecodable: [],
    ordersTopic: 'orders',
    orderRecords: [orderRecord(A, [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }], 0n), orderRecord(B, [{ productId: 1, quantity: 9 }], 1n)],
    dlqRecords: [],
    poison: [],
    outbox: { unpublished: 0, parked: undefined },
    unsettled: undefined,
    unexpectedExits: [],
  };
}

const failed = (snapshot: VerifySnapshot) => Object.fromEntries(runChecks(snapshot).filter((check) => !check.ok).map((check) => [check.name, check.violations]));

describe('runChecks', () => {
  it('passes a run that was exactly-once', () => {
    expect(failed(healthy())).toEqual({});
  });

  it('counts an identical re-publish of OrderCreated as one publication', () => {
    const snapshot = healthy();
    snapshot.orderRecords.push(orderRecord(A, [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }], 2n));
    expect(failed(snapshot)).toEqual({});
  });

  it('fails an order that is still pending, and one stored but never published', () => {
    const snapshot = healthy();
    snapshot.orderFlow.orders[1]!.status = 'pending';
    snapshot.orderFlow.rejected = [];
    snapshot.orderRecords.pop();
    const failures = failed(snapshot);
    expect(failures['every order decided']).toEqual([`order ${B} (lines 1x9) is pending`]);
    expect(failures['every order published once']).toEqual([`order ${B} is stored but was never published`]);
  });

  it('fails an OrderCreated for an order that is not stored, and ones whose lines contradict the stored order', () => {
    const snapshot = healthy();
    snapshot.orderRecords.push(orderRecord('0190a0a0-0000-7000-8000-0000000000ff', [{ productId: 1, quantity: 1 }], 2n));
    // A line's quantity, then the same lines in another order (the lead line is what the record is keyed by).
    snapshot.orderRecords[0] = orderRecord(A, [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 3 }], 0n);
    snapshot.orderRecords.push(orderRecord(A, [{ productId: 2, quantity: 1 }, { productId: 1, quantity: 2 }], 3n));
    expect(failed(snapshot)['every order published once']).toEqual([
      `OrderCreated for ${A} says lines 1x2, 2x3, stored 1x2, 2x1`,
      expect.stringMatching(/names an order that is not stored/),
      `OrderCreated for ${A} says lines 2x1, 1x2, stored 1x2, 2x1`,
    ]);
  });

  it('fails an order published under two event ids', () => {
    const snapshot = healthy();
    const other = orderCreated({ orderId: A, customerId: 'c', lines: [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }] }, 0);
    other.eventId = 'order-created:someone-else';
    snapshot.orderRecords.push({ partition: 0, offset: 5n, key: '1', value: encodeEvent(other), headers: {} });
    expect(failed(snapshot)['every order published once']![0]).toMatch(/published under 2 event ids/);
  });

  it('requires every poison record on the topic in the DLQ, matched by its original partition and offset', () => {
    const snapshot = healthy();
    const poison = buildPoisonRecords('orders', [1, 2], 0, 0);
    snapshot.poison = poison;
    poison.forEach((record, index) => {
      snapshot.orderRecords.push({ partition: 3, offset: BigInt(10 + index), key: String(record.message.key), value: record.message.value as Buffer, headers: record.message.headers! });
    });
    const letter = (offset: number): TopicRecord => ({ partition: 0, offset: 0n, key: null, value: null, headers: { [DLQ_HEADERS.topic]: 'orders', [DLQ_HEADERS.partition]: '3', [DLQ_HEADERS.offset]: String(offset) } });
    snapshot.dlqRecords = poison.slice(1).map((_, index) => letter(11 + index));
    // The poison records are not stored orders, and their OrderCreated do not count against "published once".
    expect(failed(snapshot)).toEqual({ 'every poison record dead-lettered': ['undecodable at orders[3]@10 has no dead letter'] });
    snapshot.dlqRecords.push(letter(10));
    expect(failed(snapshot)).toEqual({});
  });

  it('fails a poison record that never reached the topic', () => {
    const snapshot = healthy();
    snapshot.poison = buildPoisonRecords('orders', [1], 0, 0).slice(0, 1);
    expect(failed(snapshot)['every poison record dead-lettered']![0]).toMatch(/undecodable .* is not on orders/);
  });

  it('fails unpublished outbox rows and parked rows without a reason, and skips parking when the schema has none', () => {
    const snapshot = healthy();
    snapshot.outbox = { unpublished: 2, parked: [{ id: '7', eventId: 'inventory-updated:1:2', reason: 'MESSAGE_TOO_LARGE' }, { id: '8', eventId: 'x', reason: null }] };
    expect(failed(snapshot)['outbox drained']).toEqual(['2 outbox rows neither published nor parked', 'outbox row 8 (x) is parked without a reason']);
    snapshot.outbox = { unpublished: 0, parked: [{ id: '7', eventId: 'inventory-updated:1:2', reason: 'MESSAGE_TOO_LARGE' }] };
    expect(failed(snapshot)['outbox drained']).toBeUndefined();
  });

  it('fails a role that exited by itself, with its last lines, and a run that never settled', () => {
    const snapshot = healthy();
    snapshot.unexpectedExits = [{ role: 'relay', code: 1, signal: null, atMs: 12_000, lastLines: ['MESSAGE_TOO_LARGE'] }];
    snapshot.unsettled = 'partitions behind (stored/end) 3: 10/12';
    const failures = failed(snapshot);
    expect(failures['no role exited by itself']![0]).toMatch(/relay exited \(code 1.*at 12s: MESSAGE_TOO_LARGE/);
    expect(failures.settled).toEqual(['partitions behind (stored/end) 3: 10/12']);
  });

  it('passes the order flow on to findOrderFlowViolations', () => {
    const snapshot = healthy();
    snapshot.orderFlow.inventory[0]!.quantity = 4;
    expect(failed(snapshot)['order flow invariants']!.join('\n')).toMatch(/product 1: stock 4/);
  });

  it('fails records of the outcome topics that do not decode', () => {
    const snapshot = healthy();
    snapshot.undecodable = ['orders-confirmed[0]@7 is not an OrderConfirmed: record value is not valid JSON'];
    expect(failed(snapshot)).toEqual({ 'events decode': snapshot.undecodable });
  });
});

describe('checkRecoveries', () => {
  const outcome = (patch: Partial<FaultOutcome>): FaultOutcome => ({ kind: 'pg-restart', target: '', plannedAtMs: 0, startedAtMs: 1_000, backAtMs: 2_000, recoveryMs: 3_000, detail: 'd', error: undefined, ...patch });

  it('passes recoveries within the bound and fails slow, missing, failed and skipped ones', () => {
    expect(checkRecoveries([outcome({})], 15_000).ok).toBe(true);
    const result = checkRecoveries(
      [outcome({ recoveryMs: 20_000 }), outcome({ kind: 'broker-kill', target: 'node 2', recoveryMs: undefined }), outcome({ error: 'pg_ctl failed' }), outcome({ startedAtMs: undefined })],
      15_000,
    );
    expect(result.ok).toBe(false);
    expect(result.violations).toEqual([
      'pg-restart: processing resumed 20.0s after the service came back (bound 15s; d)',
      'broker-kill (node 2): processing did not resume (d)',
      'pg-restart could not be carried out: pg_ctl failed',
      'pg-restart never ran (the load ended first)',
    ]);
  });
});

describe('the order flow invariants check', () => {
  it('leaves undecided orders to their own check, so the other violations stay visible', () => {
    const snapshot = healthy();
    snapshot.orderFlow.orders[0]!.status = 'reserving';
    snapshot.orderFlow.orders[1]!.status = 'pending';
    snapshot.orderFlow.inventory[1]!.quantity = 1;
    const failures = failed(snapshot);
    expect(failures['every order decided']).toHaveLength(2);
    expect(failures['order flow invariants']!.filter((violation) => /still (pending|reserving)/.test(violation))).toEqual([]);
    expect(failures['order flow invariants']!.join('\n')).toMatch(/product 2: stock 1/);
  });
});
