/**
 * The exactly-once suites of the order flow are only as strict as findOrderFlowViolations: it
 * accepts a consistent run and names each kind of breakage, each case breaking one rule.
 */
import { describe, expect, it } from '@jest/globals';
import type { AnyEvent } from '../../../processors/event-json.ts';
import { encodeEvent } from '../../../processors/events.ts';
import {
  type CancellationResult,
  inventoryRestocked,
  type LineOutcome,
  
  orderCancelled,
  orderConfirmed,
  orderRejected,
} from '../../../processors/outcome-events.ts';
import type { OrderLine } from '../../../processors/events.ts';
import type { InventoryUpdate } from '../../../verify/inventory-update.ts';
import { findOrderFlowViolations, type OrderFlowSnapshot, type Published, type StoredOrder } from '../../../verify/order-flow-invariants.ts';

const order = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const request = (n: number) => `00000000-0000-4000-9000-0000000000${String(n).padStart(2, '0')}`;
const restock = (n: number) => `00000000-0000-4000-a000-0000000000${String(n).padStart(2, '0')}`;

/** A: confirmed; B: rejected (product 3 out of stock, product 1 released); C: confirmed, then cancelled; D: cancelled before it reserved, cancelled again; E: rejected, unknown product; F: never stored, cancelled; G: confirmed on restocked stock. */
const [A, B, C, D, E, F, G] = [1, 2, 3, 4, 5, 6, 7].map(order) as [string, string, string, string, string, string, string];
const [R1, R2, R3, R4] = [1, 2, 3, 4].map(request) as [string, string, string, string];
/** S1 restocks product 3; S2 is for product 99, which does not exist: a dead letter. */
const [S1, S2] = [1, 2].map(restock) as [string, string];

const line = (productId: number, quantity: number): OrderLine => ({ productId, quantity });
const reserved = (productId: number, quantity: number): LineOutcome => ({ productId, quantity, outcome: 'reserved' });
const refused = (productId: number, quantity: number, reason: 'out_of_stock' | 'unknown_product'): LineOutcome => ({ productId, quantity, outcome: 'refused', reason });

function published<E extends AnyEvent>(event: E, key: string): Published<E> {
  return { key, value: encodeEvent(event).toString('utf8'), event };
}

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const confirmedEvent = (orderId: string, lines: OrderLine[], second = 1) => published(orderConfirmed({ orderId, lines }, at(second)), orderId);
const rejectedEvent = (orderId: string, lines: LineOutcome[]) => published(orderRejected({ orderId, lines }, at(1)), orderId);
const cancelledEvent = (orderId: string, requestId: string, result: CancellationResult, releasedLines: OrderLine[] = [], second = 2) =>
  published(orderCancelled({ orderId, requestId, result, releasedLines }, at(second)), orderId);
const restockedEvent = (restockId: string, productId: number, quantity: number, stockAfter: number) =>
  published(inventoryRestocked({ restockId, productId, quantity, stockAfter }, at(1)), String(productId));

function update(productId: number, version: number, quantity: number, delta: number, counts: Partial<Pick<InventoryUpdate, 'reserved' | 'refused' | 'released' | 'restocked'>>): Published<InventoryUpdate> {
  const event: InventoryUpdate = { productId, version, quantity, delta, reserved: 0, refused: 0, released: 0, restocked: 0, ...counts, source: { topic: 'orders', partition: 0, fromOffset: '0', toOffset: '0' } };
  return { key: String(productId), value: JSON.stringify(event), event };
}

const stored = (id: string, status: string, lines: OrderLine[], extra: Partial<StoredOrder> = {}): StoredOrder => ({ id, status, reason: null, cancelRequest: null, lines, ...extra });

/** Products 1 (10 units), 2 (5) and 3 (0, restocked by 4); see A..G above for the orders. */
function consistentRun(): OrderFlowSnapshot {
  return {
    initialStock: new Map([
      [1, 10],
      [2, 5],
      [3, 0],
    ]),
    restocksSent: [
      { restockId: S1, productId: 3, quantity: 4 },
      { restockId: S2, productId: 99, quantity: 5 },
    ],
    cancellationsSent: [
      { requestId: R1, orderId: C },
      { requestId: R2, orderId: D },
      { requestId: R3, orderId: D },
      { requestId: R4, orderId: F },
    ],
    deadLetteredRestockIds: new Set([S2]),
    orders: [
      stored(A, 'confirmed', [line(1, 3), line(2, 2)]),
      stored(B, 'rejected', [line(1, 2), line(3, 1)], { reason: 'out_of_stock' }),
      stored(C, 'cancelled', [line(2, 1)], { cancelRequest: R1 }),
      stored(D, 'cancelled', [line(1, 1), line(2, 1)], { cancelRequest: R2 }),
      stored(E, 'rejected', [line(99, 1)], { reason: 'unknown_product' }),
      stored(G, 'confirmed', [line(3, 2)]),
    ],
    inventory: [
      { productId: 1, quantity: 7, version: 2 },
      { productId: 2, quantity: 3, version: 2 },
      { productId: 3, quantity: 2, version: 2 },
    ],
    restocks: [{ restockId: S1, productId: 3, quantity: 4 }],
    inventoryUpdates: [
      update(1, 1, 5, -5, { reserved: 2 }),
      update(1, 2, 7, 2, { released: 1 }),
      update(2, 1, 2, -3, { reserved: 2 }),
      update(2, 2, 3, 1, { released: 1 }),
      update(3, 1, 0, 0, { refused: 1 }),
      update(3, 2, 2, 2, { reserved: 1, restocked: 1 }),
    ],
    // Lines report at the order's partition in any order.
    confirmed: [confirmedEvent(A, [line(2, 2), line(1, 3)]), confirmedEvent(C, [line(2, 1)]), confirmedEvent(G, [line(3, 2)])],
    rejected: [rejectedEvent(B, [refused(3, 1, 'out_of_stock'), reserved(1, 2)]), rejectedEvent(E, [refused(99, 1, 'unknown_product')])],
    cancelled: [
      cancelledEvent(C, R1, 'cancelled', [line(2, 1)]),
      cancelledEvent(D, R2, 'cancelled'),
      cancelledEvent(D, R3, 'already_cancelled'),
      cancelledEvent(F, R4, 'unknown_order'),
    ],
    restocked: [restockedEvent(S1, 3, 4, 4)],
  };
}

type Breakage = [string, (run: OrderFlowSnapshot) => void, RegExp];

const orderOf = (run: OrderFlowSnapshot, id: string) => run.orders.find((candidate) => candidate.id === id)!;
const without = <T>(list: T[], unwanted: (item: T) => boolean) => list.splice(list.findIndex(unwanted), 1);
const answerTo = (run: OrderFlowSnapshot, requestId: string) => run.cancelled.find(({ event }) => event.payload.requestId === requestId)!;

const copies: Breakage[] = [
  ['an outcome published twice with different contents', (run) => run.confirmed.push(confirmedEvent(A, [line(1, 3), line(2, 2)], 9)), new RegExp(`^order-confirmed:${A} was published twice with different contents$`)],
  ['a re-publish under another key', (run) => run.restocked.push({ ...run.restocked[0]!, key: '4' }), new RegExp(`^inventory-restocked:${S1} was published twice with different contents$`)],
  ['an InventoryUpdated version published twice with different contents', (run) => run.inventoryUpdates.push(update(1, 2, 7, 2, { released: 2 })), /^inventory-updated:1:2 was published twice with different contents$/],
];

const decisions: Breakage[] = [
  ['an order still reserving', (run) => (orderOf(run, G).status = 'reserving'), new RegExp(`^order ${G} is still reserving$`)],
  ['an order with a status the flow does not have', (run) => (orderOf(run, G).status = 'shipped'), new RegExp(`^order ${G} has status shipped, which is not an order status$`)],
  ['a confirmed order without its OrderConfirmed', (run) => without(run.confirmed, ({ event }) => event.payload.orderId === G), new RegExp(`^order ${G} is confirmed, but has 0 OrderConfirmed \\(expected 1\\)$`)],
  ['a confirmed order that was also rejected', (run) => run.rejected.push(rejectedEvent(G, [refused(3, 2, 'out_of_stock')])), new RegExp(`^order ${G} is confirmed, but has 1 OrderRejected \\(expected 0\\)$`)],
  ['a rejected order without its OrderRejected', (run) => without(run.rejected, ({ event }) => event.payload.orderId === E), new RegExp(`^order ${E} is rejected, but has 0 OrderRejected \\(expected 1\\)$`)],
  ['a rejected order that was also confirmed', (run) => run.confirmed.push(confirmedEvent(E, [line(99, 1)])), new RegExp(`^order ${E} is rejected, but has 1 OrderConfirmed \\(expected 0\\)$`)],
  ['a cancelled order that was rejected', (run) => run.rejected.push(rejectedEvent(D, [refused(1, 1, 'out_of_stock'), refused(2, 1, 'out_of_stock')])), new RegExp(`^order ${D} is cancelled, but has 1 OrderRejected \\(expected 0\\)$`)],
  ['an OrderConfirmed under another event id', (run) => (run.confirmed[2]!.event.eventId = `order-confirmed:${F}`), new RegExp(`^order-confirmed:${F} is an OrderConfirmed of order ${G}, whose id is order-confirmed:${G}$`)],
  ['an OrderRejected keyed by something else', (run) => (run.rejected[0]!.key = '3'), new RegExp(`^order-rejected:${B} has key 3, not its order id$`)],
  ['an outcome of an order that is not stored', (run) => run.confirmed.push(confirmedEvent(F, [line(1, 1)])), new RegExp(`^order-confirmed:${F} names order ${F}, which is not stored$`)],
  ['an OrderConfirmed with other lines than the order', (run) => (run.confirmed[0]!.event.payload.lines = [line(1, 3), line(2, 1)]), new RegExp(`^order-confirmed:${A} confirms \\[product 1 × 3, product 2 × 1\\], but the order's lines are \\[product 1 × 3, product 2 × 2\\]$`)],
  ['an OrderRejected missing a line', (run) => (run.rejected[0]!.event.payload.lines = [refused(3, 1, 'out_of_stock')]), new RegExp(`^order-rejected:${B} rejects \\[product 3 × 1\\], but the order's lines are \\[product 1 × 2, product 3 × 1\\]$`)],
  ['an OrderRejected that refuses no line', (run) => (run.rejected[0]!.event.payload.lines = [reserved(3, 1), reserved(1, 2)]), new RegExp(`^order-rejected:${B} refuses none of its lines$`)],
  ['a rejection stored with another reason than its first refused line', (run) => (orderOf(run, B).reason = 'unknown_product'), new RegExp(`^order ${B} is stored as rejected for unknown_product, but the first refused line of order-rejected:${B} says out_of_stock$`)],
];

const cancellations: Breakage[] = [
  ['an OrderCancelled under another event id', (run) => (answerTo(run, R3).event.eventId = `order-cancelled:${D}:${request(8)}`), new RegExp(`^order-cancelled:${D}:${request(8)} answers request ${R3} for order ${D}, whose id is order-cancelled:${D}:${R3}$`)],
  ['an OrderCancelled keyed by something else', (run) => (answerTo(run, R3).key = R3), new RegExp(`^order-cancelled:${D}:${R3} has key ${R3}, not its order id$`)],
  ['an answer other than unknown_order for an order not stored', (run) => (answerTo(run, R4).event.payload.result = 'already_cancelled'), new RegExp(`^order-cancelled:${F}:${R4} says already_cancelled, but order ${F} is not stored$`)],
  ['unknown_order for a stored order', (run) => (answerTo(run, R3).event.payload.result = 'unknown_order'), new RegExp(`^order-cancelled:${D}:${R3} says unknown_order, but order ${D} is cancelled$`)],
  ['an answer the order\'s status does not explain', (run) => (answerTo(run, R3).event.payload.result = 'order_rejected'), new RegExp(`^order-cancelled:${D}:${R3} says order_rejected, but order ${D} is cancelled$`)],
  ['a cancellation of an order that stayed confirmed', (run) => run.cancelled.push(cancelledEvent(G, request(9), 'cancelled', [line(3, 2)])), new RegExp(`^order-cancelled:${G}:${request(9)} says cancelled, but order ${G} is confirmed$`)],
  ['a cancelled order cancelled twice', (run) => (answerTo(run, R3).event.payload.result = 'cancelled'), new RegExp(`^order ${D} is cancelled, but has 2 OrderCancelled with result cancelled \\(expected 1\\)$`)],
  ['a cancelled order without its cancellation', (run) => without(run.cancelled, ({ event }) => event.payload.requestId === R1), new RegExp(`^order ${C} is cancelled, but has 0 OrderCancelled with result cancelled \\(expected 1\\)$`)],
  ['stock released by an answer that cancelled nothing', (run) => (answerTo(run, R3).event.payload.releasedLines = [line(1, 1), line(2, 1)]), new RegExp(`^order-cancelled:${D}:${R3} says already_cancelled and releases \\[product 1 × 1, product 2 × 1\\], but the order's lines are`)],
  ['a cancellation releasing part of the order', (run) => (answerTo(run, R2).event.payload.releasedLines = [line(1, 1)]), new RegExp(`^order-cancelled:${D}:${R2} says cancelled and releases \\[product 1 × 1\\], but the order's lines are \\[product 1 × 1, product 2 × 1\\]$`)],
  ['a cancelled order stored with another request', (run) => (orderOf(run, D).cancelRequest = R3), new RegExp(`^order ${D} is stored as cancelled by request ${R3}, but order-cancelled:${D}:${R2} cancelled it$`)],
  ['a confirmation after the cancellation', (run) => (run.confirmed[1]!.event.occurredAt = at(3)), new RegExp(`^order ${C} was confirmed \\(${at(3)}\\) after it was cancelled \\(${at(2)}\\)$`)],
  ['a confirmed, then cancelled order whose stock stayed taken', (run) => (answerTo(run, R1).event.payload.releasedLines = []), new RegExp(`^order ${C} was confirmed, but order-cancelled:${C}:${R1} releases \\[\\], not its lines \\[product 2 × 1\\]$`)],
  ['a request the pipeline never answered', (run) => without(run.cancelled, ({ event }) => event.payload.requestId === R4), new RegExp(`^cancellation ${R4} of order ${F} has 0 OrderCancelled \\(expected 1\\)$`)],
  ['a request answered twice', (run) => run.cancelled.push(cancelledEvent(A, R4, 'unknown_order')), new RegExp(`^cancellation ${R4} of order ${F} has 2 OrderCancelled \\(expected 1\\)$`)],
  ['a request answered for another order', (run) => {
      run.cancellationsSent.push({ requestId: request(9), orderId: A });
      run.cancelled.push(cancelledEvent(F, request(9), 'unknown_order'));
    }, new RegExp(`^cancellation ${request(9)} was sent for order ${A}, but order-cancelled:${F}:${request(9)} answers it for order ${F}$`)],
];

const restocks: Breakage[] = [
  ['a restock applied twice', (run) => run.restocks.push({ ...run.restocks[0]! }), new RegExp(`^restock ${S1} is applied 2 times$`)],
  ['a restock applied to an unknown product', (run) => run.restocks.push({ restockId: S2, productId: 99, quantity: 5 }), new RegExp(`^restock ${S2} is applied to unknown product 99$`)],
  ['an InventoryRestocked under another event id', (run) => (run.restocked[0]!.event.eventId = `inventory-restocked:${S2}`), new RegExp(`^inventory-restocked:${S2} reports restock ${S1}, whose id is inventory-restocked:${S1}$`)],
  ['an InventoryRestocked keyed by something else', (run) => (run.restocked[0]!.key = S1), new RegExp(`^inventory-restocked:${S1} has key ${S1}, not its product id$`)],
  ['an applied restock without its InventoryRestocked', (run) => run.restocked.pop(), new RegExp(`^restock ${S1} is applied, but has 0 InventoryRestocked \\(expected 1\\)$`)],
  ['an InventoryRestocked that says something else than the restock', (run) => (run.restocked[0]!.event.payload.quantity = 5), new RegExp(`^inventory-restocked:${S1} reports product 3 \\+5, but the restock applied product 3 \\+4$`)],
  ['an InventoryRestocked of a restock never applied', (run) => run.restocked.push(restockedEvent(restock(9), 1, 1, 8)), new RegExp(`^inventory-restocked:${restock(9)} reports restock ${restock(9)}, which is not applied$`)],
  ['a restock of an unknown product that is not a dead letter', (run) => (run.deadLetteredRestockIds = new Set()), new RegExp(`^restock ${S2} of unknown product 99 is not a dead letter$`)],
  ['a restock sent but never applied', (run) => run.restocksSent.push({ restockId: restock(9), productId: 1, quantity: 1 }), new RegExp(`^restock ${restock(9)} \\(product 1 \\+1\\) was sent, but is not applied$`)],
  ['a restock applied otherwise than sent', (run) => (run.restocksSent[0]!.quantity = 3), new RegExp(`^restock ${S1} was sent as product 3 \\+3, but applied as product 3 \\+4$`)],
];

const stock: Breakage[] = [
  ['a confirmed order with a line of an unknown product', (run) => Object.assign(orderOf(run, E), { status: 'confirmed', reason: null }), new RegExp(`^order ${E} is confirmed with a line of unknown product 99$`)],
  ['a product without its inventory row', (run) => run.inventory.pop(), /^product 3 has no inventory row$/],
  ['negative stock', (run) => (run.inventory[2]!.quantity = -1), /^product 3 has negative stock -1$/],
  ['stock that the decisions and restocks do not explain', (run) => (run.inventory[0]!.quantity = 8), /^product 1: stock 8, but initial 10 \+ restocked 0 - confirmed 3 = 7$/],
  ['a cancelled order whose stock stayed taken', (run) => (orderOf(run, C).status = 'confirmed'), /^product 2: stock 3, but initial 5 \+ restocked 0 - confirmed 3 = 2$/],
  ['a restock that never reached the stock', (run) => run.restocks.push({ restockId: restock(9), productId: 1, quantity: 2 }), /^product 1: stock 7, but initial 10 \+ restocked 2 - confirmed 3 = 9$/],
];

const changelog: Breakage[] = [
  ['an InventoryUpdated keyed by something else', (run) => (run.inventoryUpdates[0]!.key = '2'), /^inventory-updated:1:1 has key 2, not its product id$/],
  ['an InventoryUpdated of an unknown product', (run) => run.inventoryUpdates.push(update(99, 1, 0, 0, { refused: 1 })), /^unknown product 99 has 1 InventoryUpdated versions$/],
  ['a gap in the versions', (run) => run.inventoryUpdates.splice(0, 1), /^product 1: versions on the topic are \[2\], not 1\.\.1$/],
  ['a stored version ahead of the topic', (run) => (run.inventory[1]!.version = 3), /^product 2: stored version 3, but 2 versions on the topic$/],
  ['an event whose quantity does not replay', (run) => (run.inventoryUpdates[0]!.event.quantity = 6), /^product 1 v1: quantity 6, replayed 5$/],
  ['an event with negative quantity', (run) => run.inventoryUpdates.splice(4, 2, update(3, 1, -1, -1, { reserved: 1 }), update(3, 2, 2, 3, { restocked: 1 })), /^product 3 v1: negative quantity -1$/],
  ['stock taken with nothing reserved', (run) => (run.inventoryUpdates[0]!.event.reserved = 0), /^product 1 v1: delta -5 with no line reserved$/],
  ['stock given back with nothing released or restocked', (run) => (run.inventoryUpdates[3]!.event.released = 0), /^product 2 v2: delta \+1 with no line released and no restock$/],
  ['a changelog that does not end at the stock', (run) => run.inventoryUpdates.push(update(2, 3, 4, 1, { released: 1 })), /^product 2: its InventoryUpdated events replay to 4, but the stock is 3$/],
  ['a release never counted', (run) => (run.inventoryUpdates[1]!.event.released = 2), /^product 1: its InventoryUpdated reserved 2 and released 2 lines, but 1 lines of confirmed orders hold stock$/],
  ['a restock never counted', (run) => (run.inventoryUpdates[5]!.event.restocked = 0), /^product 3: its InventoryUpdated count 0 restocks, but 1 are applied$/],
];

describe('findOrderFlowViolations', () => {
  it('accepts a consistent run, including identical re-publishes of every kind of event', () => {
    const run = consistentRun();
    run.confirmed.push(run.confirmed[0]!);
    run.rejected.push(run.rejected[1]!);
    run.cancelled.push(run.cancelled[2]!);
    run.restocked.push(run.restocked[0]!);
    run.inventoryUpdates.push(run.inventoryUpdates[3]!);
    expect(findOrderFlowViolations(run)).toEqual([]);
  });

  it('reports every violation at once', () => {
    const run = consistentRun();
    orderOf(run, G).status = 'pending';
    run.inventory[0]!.quantity = 8;
    expect(findOrderFlowViolations(run)).toEqual(
      expect.arrayContaining([`order ${G} is still pending`, 'product 1: stock 8, but initial 10 + restocked 0 - confirmed 3 = 7']),
    );
  });

  describe.each([
    ['copies', copies],
    ['decisions', decisions],
    ['cancellations', cancellations],
    ['restocks', restocks],
    ['stock', stock],
    ['the changelog', changelog],
  ] as const)('%s', (_concern, breakages) => {
    it.each(breakages)('reports %s', (_name, breakRun, expected) => {
      const run = consistentRun();
      breakRun(run);
      expect(findOrderFlowViolations(run)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    });
  });
});
