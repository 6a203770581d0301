/** InventoryUpdated as the order-flow checks read it: the payload of any readable version, in the version 3 shape. */
import { decodeInventoryUpdated, type InventoryUpdatedPayload } from '../processors/events.ts';

export type InventoryUpdate = InventoryUpdatedPayload;

export function decodeInventoryUpdate(bytes: Buffer | null): InventoryUpdate {
  return decodeInventoryUpdated(bytes).payload;
}
