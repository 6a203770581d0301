/**
 * InventoryUpdated version 3 as the order-flow checks read it: the payload's numbers, decoded
 * from the topic. This reader stands in until the pipeline's own version 3 codec lands in
 * processors/events.ts; then `InventoryUpdate` becomes that payload type and
 * `decodeInventoryUpdate` a call of its decoder.
 */
import { envelopeOf, integerAt, nonNegativeInteger, nonNegativePgInteger, objectAt, PG_INTEGER_MAX, parseJson, positiveInteger, positivePgInteger } from '../processors/event-json.ts';

export interface InventoryUpdate {
  productId: number;
  /** Stock after the batch. */
  quantity: number;
  /** Change of stock in the batch, of any sign: reservations take, releases and restocks give back. */
  delta: number;
  /** Per product, +1 with each InventoryUpdated. */
  version: number;
  /** Lines of the product the batch reserved, refused and released, and restocks it applied. */
  reserved: number;
  refused: number;
  released: number;
  restocked: number;
  /** Where the batch's records came from; no check reads it. */
  source: unknown;
}

export function decodeInventoryUpdate(bytes: Buffer | null): InventoryUpdate {
  const { payload } = envelopeOf(parseJson(bytes, 'InventoryUpdated'), 'InventoryUpdated', [3]);
  return {
    productId: positivePgInteger(payload.productId, 'payload.productId'),
    quantity: nonNegativePgInteger(payload.quantity, 'payload.quantity'),
    delta: integerAt(payload.delta, 'payload.delta', -PG_INTEGER_MAX, 'an integer of at least -2147483647'),
    version: positiveInteger(payload.version, 'payload.version'),
    reserved: nonNegativeInteger(payload.reserved, 'payload.reserved'),
    refused: nonNegativeInteger(payload.refused, 'payload.refused'),
    released: nonNegativeInteger(payload.released, 'payload.released'),
    restocked: nonNegativeInteger(payload.restocked, 'payload.restocked'),
    source: objectAt(payload.source, 'payload.source'),
  };
}
