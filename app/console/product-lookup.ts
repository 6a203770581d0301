/**
 * GET /api/products/:productId: a product, its stock as the inventory table holds it, and its
 * newest InventoryUpdated events (the table's changelog) read from the tail of the product's
 * partition of the inventory-updated topic (key-events.ts). The outbox is no help here: it
 * keeps published rows only minutes, and a commit frames one product's event among others'.
 */
import type { Sequelize } from 'sequelize';
import type { KafkaAdmin, KafkaClient } from '../../kafka/port.ts';
import { decodeInventoryUpdated, PG_INTEGER_MAX } from '../../processors/events.ts';
import { selectRows } from '../../state/sql.ts';
import { HttpError } from './http-server.ts';
import { newestKeyRecords } from './key-events.ts';

export const HISTORY_LIMIT = 50;

export interface ProductLookupDeps {
  sequelize: Sequelize;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  inventoryTopic: string;
}

export interface InventoryHistoryEntry {
  version: number;
  quantity: number;
  delta: number;
  reserved: number;
  refused: number;
  released: number;
  restocked: number;
  occurredAt: string;
}

export interface ProductView {
  product: { id: number; name: string; price: string };
  stock: { quantity: number; version: number | null };
  history: InventoryHistoryEntry[];
}

/** `:productId`: an integer from 1 to PostgreSQL's integer maximum. Pure. */
export function parseProductId(raw: string): number {
  const id = /^\d{1,10}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(id >= 1 && id <= PG_INTEGER_MAX)) throw new HttpError(400, `product id: expected an integer from 1 to ${PG_INTEGER_MAX}, got ${JSON.stringify(raw)}`);
  return id;
}

export async function lookUpProduct(deps: ProductLookupDeps, productId: number): Promise<ProductView> {
  const [row] = await selectRows<{ id: number; name: string; price: string; quantity: number | null; version: string | null }>(
    deps.sequelize,
    'SELECT p.id, p.name, p.price, i.quantity, i.version FROM products p LEFT JOIN inventory i ON i.product_id = p.id WHERE p.id = $productId',
    { productId },
  );
  if (row === undefined) throw new HttpError(404, `no product ${productId}`);
  const records = await newestKeyRecords({ kafka: deps.kafka, admin: deps.admin, topic: deps.inventoryTopic, key: String(productId) }, HISTORY_LIMIT);
  const history = records.flatMap((record): InventoryHistoryEntry[] => {
    try {
      const event = decodeInventoryUpdated(record.value);
      const { version, quantity, delta, reserved, refused, released, restocked } = event.payload;
      return [{ version, quantity, delta, reserved, refused, released, restocked, occurredAt: event.occurredAt }];
    } catch {
      // A record the topic should not hold (it would be a dead letter of whoever consumes it): not history.
      return [];
    }
  });
  return {
    product: { id: Number(row.id), name: row.name, price: String(row.price) },
    stock: { quantity: Number(row.quantity ?? 0), version: row.version === null ? null : Number(row.version) },
    history,
  };
}
