/**
 * The exactly-once invariants as a pure check over a snapshot of the database and the
 * inventory topic: used by the verifier (`npm run verify`) and the exactly-once test suites.
 */
import type { InventoryUpdated } from '../core/events.ts';

export interface StoredOrderRow {
  id: string;
  product_id: number;
  quantity: number;
  status: string;
  reason: string | null;
}

export interface InventoryRow {
  product_id: number;
  quantity: number;
  version: string;
}

/** An InventoryUpdated as it was read from the topic: the raw value, so duplicates can be compared byte for byte. */
export interface PublishedInventoryEvent {
  key: string | null;
  value: string;
  event: InventoryUpdated;
}

export interface PipelineSnapshot {
  initialStock: Map<number, number>;
  orders: StoredOrderRow[];
  inventory: InventoryRow[];
  events: PublishedInventoryEvent[];
}

/**
 * Everything that must hold after any mix of crashes, zombies and redeliveries, as a list of
 * violations (empty when the run was exactly-once). Pure, so a failure shows all of them at once.
 */
export function findInvariantViolations(snapshot: PipelineSnapshot): string[] {
  const violations: string[] = [];
  const confirmedUnits = new Map<number, number>();
  for (const order of snapshot.orders) {
    if (order.status === 'confirmed') confirmedUnits.set(order.product_id, (confirmedUnits.get(order.product_id) ?? 0) + order.quantity);
    else if (order.status !== 'rejected') violations.push(`order ${order.id} is still ${order.status}`);
  }

  const eventsByProduct = new Map<number, Map<number, PublishedInventoryEvent>>();
  for (const published of snapshot.events) {
    const { productId, version } = published.event.payload;
    if (published.key !== String(productId)) violations.push(`${published.event.eventId} has key ${published.key}, not its product id`);
    const versions = eventsByProduct.get(productId) ?? new Map<number, PublishedInventoryEvent>();
    eventsByProduct.set(productId, versions);
    const seen = versions.get(version);
    // The same version twice is only a re-publish when it is the very same event.
    if (seen && seen.value !== published.value) violations.push(`${published.event.eventId} was published twice with different contents`);
    if (!seen) versions.set(version, published);
  }

  const orderEvents = new Map<string, number>();
  const ordersById = new Map(snapshot.orders.map((order) => [order.id, order]));
  for (const row of snapshot.inventory) {
    const productId = row.product_id;
    const initial = snapshot.initialStock.get(productId);
    if (initial === undefined) continue;
    if (row.quantity < 0) violations.push(`product ${productId} has negative stock ${row.quantity}`);
    const expected = initial - (confirmedUnits.get(productId) ?? 0);
    if (row.quantity !== expected) violations.push(`product ${productId}: stock ${row.quantity}, but initial ${initial} - confirmed ${confirmedUnits.get(productId) ?? 0} = ${expected}`);

    const versions = eventsByProduct.get(productId) ?? new Map<number, PublishedInventoryEvent>();
    const sorted = [...versions.keys()].sort((a, b) => a - b);
    const gapless = sorted.every((version, index) => version === index + 1);
    if (!gapless) violations.push(`product ${productId}: versions on the topic are ${summarize(sorted)}, not 1..${sorted.length}`);
    if (Number(row.version) !== sorted.length) violations.push(`product ${productId}: stored version ${row.version}, but ${sorted.length} versions on the topic`);

    // The events are the inventory's changelog: replaying them must give the stored stock.
    let quantity = initial;
    for (const version of sorted) {
      const { payload } = versions.get(version)!.event;
      quantity += payload.delta;
      if (payload.quantity !== quantity) violations.push(`product ${productId} v${version}: quantity ${payload.quantity}, replayed ${quantity}`);
      if (payload.quantity < 0) violations.push(`product ${productId} v${version}: negative quantity ${payload.quantity}`);
      for (const orderId of [...payload.acceptedOrderIds, ...payload.rejectedOrders.map((rejected) => rejected.orderId)]) {
        orderEvents.set(orderId, (orderEvents.get(orderId) ?? 0) + 1);
      }
      for (const orderId of payload.acceptedOrderIds) {
        if (ordersById.get(orderId)?.status !== 'confirmed') violations.push(`order ${orderId} accepted in ${payload.version} but stored as ${ordersById.get(orderId)?.status}`);
      }
      for (const rejected of payload.rejectedOrders) {
        const stored = ordersById.get(rejected.orderId);
        if (stored?.status !== 'rejected' || stored.reason !== rejected.reason) {
          violations.push(`order ${rejected.orderId} rejected (${rejected.reason}) in v${payload.version} but stored as ${stored?.status} (${stored?.reason})`);
        }
      }
    }
  }

  // Each decided order of a known product appears in exactly one distinct event.
  for (const order of snapshot.orders) {
    if (!snapshot.initialStock.has(order.product_id) || order.status === 'pending') continue;
    const count = orderEvents.get(order.id) ?? 0;
    if (count !== 1) violations.push(`order ${order.id} (${order.status}) appears in ${count} distinct InventoryUpdated events`);
  }
  return violations;
}

function summarize(versions: number[]): string {
  return versions.length <= 12 ? `[${versions.join(',')}]` : `[${versions.slice(0, 6).join(',')},...,${versions.slice(-6).join(',')}] (${versions.length})`;
}
