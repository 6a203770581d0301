import { type MigrationContext, runStatements } from './context.ts';

export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    `CREATE TABLE products (
       id         SERIAL PRIMARY KEY,
       name       TEXT NOT NULL,
       price      NUMERIC(12, 2) NOT NULL,
       created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
       updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
    // The CHECK is the last line of defence of "stock never goes below zero": a batch that
    // would overdraw fails as a whole instead of committing a negative quantity.
    `CREATE TABLE inventory (
       product_id INTEGER PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
       quantity   INTEGER NOT NULL CONSTRAINT inventory_quantity_non_negative CHECK (quantity >= 0),
       version    BIGINT NOT NULL DEFAULT 0,
       updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS inventory', 'DROP TABLE IF EXISTS products']);
}
