import { type MigrationContext, runStatements } from './context.ts';

/**
 * What the multi-line order flow keeps (processors/order-flow.ts):
 *
 * - orders: two more statuses (`reserving`: its lines are out at their products' partitions;
 *   `cancelled`), each line's result once reported (`line_results`, a JSON array in line order of
 *   report), and the id of a cancellation request that came before the decision.
 * - order_contents: each order's lines as one JSON array, the read-only view an OrderCreated is
 *   checked against (one row per order, whatever its line count).
 * - restocks: every restock applied, once per id: the de-duplication of restock commands and
 *   the audit trail the stock invariant adds up.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    'ALTER TABLE orders DROP CONSTRAINT orders_status_known',
    `ALTER TABLE orders ADD CONSTRAINT orders_status_known
       CHECK (status IN ('pending', 'reserving', 'confirmed', 'rejected', 'cancelled'))`,
    'ALTER TABLE orders ADD COLUMN line_results JSONB',
    'ALTER TABLE orders ADD COLUMN cancel_request UUID',
    `CREATE VIEW order_contents AS
       SELECT order_id AS id,
              jsonb_agg(jsonb_build_object('productId', product_id, 'quantity', quantity) ORDER BY line_no) AS lines
       FROM order_lines
       GROUP BY order_id`,
    `CREATE TABLE restocks (
       restock_id  UUID PRIMARY KEY,
       product_id  INTEGER NOT NULL,
       quantity    INTEGER NOT NULL CONSTRAINT restocks_quantity_positive CHECK (quantity > 0),
       applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
    'CREATE INDEX restocks_product_id ON restocks (product_id)',
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    'DROP TABLE IF EXISTS restocks',
    'DROP VIEW IF EXISTS order_contents',
    'ALTER TABLE orders DROP COLUMN IF EXISTS cancel_request',
    'ALTER TABLE orders DROP COLUMN IF EXISTS line_results',
    // Orders in the new statuses have no place in the old constraint: they go back to pending.
    `UPDATE orders SET status = 'pending' WHERE status IN ('reserving', 'cancelled')`,
    'ALTER TABLE orders DROP CONSTRAINT orders_status_known',
    `ALTER TABLE orders ADD CONSTRAINT orders_status_known CHECK (status IN ('pending', 'confirmed', 'rejected'))`,
  ]);
}
