import { type MigrationContext, runStatements } from './context.ts';

export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    // No foreign key on product_id, on purpose: the order source stores every order before
    // anything checks it, and the inventory processor must be able to reject an order for an
    // unknown product (reason 'unknown_product'). An FK would make the source's INSERT fail
    // instead, and the order would never reach the processor at all.
    `CREATE TABLE orders (
       id          UUID PRIMARY KEY,
       product_id  INTEGER NOT NULL,
       customer_id TEXT,
       quantity    INTEGER NOT NULL CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
       status      TEXT NOT NULL DEFAULT 'pending'
                   CONSTRAINT orders_status_known CHECK (status IN ('pending', 'confirmed', 'rejected')),
       reason      TEXT,
       source_id   TEXT NOT NULL,
       source_seq  BIGINT NOT NULL,
       created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
       updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
       decided_at  TIMESTAMPTZ,
       CONSTRAINT orders_source_seq_unique UNIQUE (source_id, source_seq)
     )`,
    // The order source's publication watermark. One writer per source_id commits its seqs in
    // order, so "everything up to published_seq is on the topic" is a safe summary.
    `CREATE TABLE order_source_progress (
       source_id     TEXT PRIMARY KEY,
       published_seq BIGINT NOT NULL DEFAULT 0,
       updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS order_source_progress', 'DROP TABLE IF EXISTS orders']);
}
