import { type MigrationContext, runStatements } from './context.ts';

/**
 * An order has lines: one product and a positive quantity each, no product twice in one order.
 * Every order stored before this migration had exactly one product, so it becomes a one-line
 * order (line 0). orders.product_id and orders.quantity stay, holding the order's first line (its
 * lead line): the processor of one-line orders still reads them there, and the lead line is what
 * an OrderCreated is keyed and partitioned by.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    // No foreign key on product_id, for the reason orders.product_id has none (0002): an order
    // for an unknown product is stored, then rejected, never refused at the INSERT.
    `CREATE TABLE order_lines (
       order_id   UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
       line_no    SMALLINT NOT NULL,
       product_id INTEGER NOT NULL,
       quantity   INTEGER NOT NULL CONSTRAINT order_lines_quantity_positive CHECK (quantity > 0),
       PRIMARY KEY (order_id, line_no),
       CONSTRAINT order_lines_product_once UNIQUE (order_id, product_id)
     )`,
    // What a product's lines are found by (its reservations, and what cancelling one releases).
    'CREATE INDEX order_lines_product_idx ON order_lines (product_id)',
    'INSERT INTO order_lines (order_id, line_no, product_id, quantity) SELECT id, 0, product_id, quantity FROM orders',
  ]);
}

/** The orders keep their lead line in orders.product_id and orders.quantity; any further lines are lost. */
export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS order_lines']);
}
