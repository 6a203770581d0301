/**
 * The exactly-once invariants as a pure check over a snapshot of the database and the
 * inventory topic: used by the verifier (`npm run verify`) and the exactly-once test suites.
 */
import type { InventoryUpdated } from '../processors/events.ts';

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
 *
 * InventoryUpdated (version 2) counts a batch's orders instead of listing them, so "each order
 * is in exactly one event" becomes: per product, the counts over its distinct versions add up
 * to its decided orders in the database, and the source offset ranges of successive versions
 * never overlap (an order counted twice would need two batches to cover its offset).
 */
export function findInvariantViolations(snapshot: PipelineSnapshot): string[] {
  const violations: string[] = [];
  const tally = new Map<number, { confirmedUnits: number; confirmed: number; rejected: number }>();
  for (const order of snapshot.orders) {
    const counts = tally.get(order.product_id) ?? { confirmedUnits: 0, confirmed: 0, rejected: 0 };
    tally.set(order.product_id, counts);
    if (order.status === 'confirmed') {
      counts.confirmedUnits += order.quantity;
      counts.confirmed += 1;
      if (!snapshot.initialStock.has(order.product_id)) violations.push(`order ${order.id} of unknown product ${order.product_id} is confirmed`);
    } else if (order.status === 'rejected') {
      // A rejection for an unknown product was decided without a stock row, so no event counts it.
      if (order.reason !== 'unknown_product') counts.rejected += 1;
    } else violations.push(`order ${order.id} is still ${order.status}`);
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
  for (const [productId, versions] of eventsByProduct) {
    if (!snapshot.initialStock.has(productId)) violations.push(`unknown product ${productId} has ${versions.size} InventoryUpdated versions`);
  }

  for (const row of snapshot.inventory) {
    const productId = row.product_id;
    const initial = snapshot.initialStock.get(productId);
    if (initial === undefined) continue;
    const counts = tally.get(productId) ?? { confirmedUnits: 0, confirmed: 0, rejected: 0 };
    if (row.quantity < 0) violations.push(`product ${productId} has negative stock ${row.quantity}`);
    const expected = initial - counts.confirmedUnits;
    if (row.quantity !== expected) violations.push(`product ${productId}: stock ${row.quantity}, but initial ${initial} - confirmed ${counts.confirmedUnits} = ${expected}`);

    const versions = eventsByProduct.get(productId) ?? new Map<number, PublishedInventoryEvent>();
    const sorted = [...versions.keys()].sort((a, b) => a - b);
    const gapless = sorted.every((version, index) => version === index + 1);
    if (!gapless) violations.push(`product ${productId}: versions on the topic are ${summarize(sorted)}, not 1..${sorted.length}`);
    if (Number(row.version) !== sorted.length) violations.push(`product ${productId}: stored version ${row.version}, but ${sorted.length} versions on the topic`);

    // The events are the inventory's changelog: replaying them must give the stored stock.
    let quantity = initial;
    let confirmed = 0;
    let rejected = 0;
    let previous: InventoryUpdated['payload'] | undefined;
    for (const version of sorted) {
      const { payload } = versions.get(version)!.event;
      quantity += payload.delta;
      confirmed += payload.reserved;
      rejected += payload.refused;
      if (payload.quantity !== quantity) violations.push(`product ${productId} v${version}: quantity ${payload.quantity}, replayed ${quantity}`);
      if (payload.quantity < 0) violations.push(`product ${productId} v${version}: negative quantity ${payload.quantity}`);
      // Every confirmed order takes at least one unit, and only confirmed orders take any.
      if (payload.reserved === 0 ? payload.delta !== 0 : payload.delta > -payload.reserved) {
        violations.push(`product ${productId} v${version}: delta ${payload.delta} with ${payload.reserved} orders confirmed`);
      }
      if (previous && overlaps(previous.source, payload.source)) {
        violations.push(`product ${productId} v${version}: source offsets ${range(payload.source)} do not follow v${previous.version}'s ${range(previous.source)}`);
      }
      previous = payload;
    }
    if (confirmed !== counts.confirmed) violations.push(`product ${productId}: ${confirmed} orders confirmed in its events, but ${counts.confirmed} stored as confirmed`);
    if (rejected !== counts.rejected) violations.push(`product ${productId}: ${rejected} orders rejected in its events, but ${counts.rejected} stored as rejected`);
  }
  return violations;
}

type Source = InventoryUpdated['payload']['source'];

/** Successive batches of one partition cover increasing, disjoint offsets; another partition (after a repartition) is not comparable. */
function overlaps(earlier: Source, later: Source): boolean {
  return earlier.topic === later.topic && earlier.partition === later.partition && BigInt(later.fromOffset) <= BigInt(earlier.toOffset);
}

function range(source: Source): string {
  return `${source.topic}[${source.partition}] ${source.fromOffset}..${source.toOffset}`;
}

function summarize(versions: number[]): string {
  return versions.length <= 12 ? `[${versions.join(',')}]` : `[${versions.slice(0, 6).join(',')},...,${versions.slice(-6).join(',')}] (${versions.length})`;
}
