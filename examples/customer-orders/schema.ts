/** The example's tables: created when it starts (it has no migrations of its own to keep it self-contained). */
import type { Sequelize } from 'sequelize';

export const EXAMPLE_TABLES = [
  `CREATE TABLE IF NOT EXISTS example_customer_order_ids (
     order_id    TEXT PRIMARY KEY,
     customer_id TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS example_customer_order_counts (
     customer_id TEXT PRIMARY KEY,
     orders      BIGINT NOT NULL CHECK (orders > 0),
     partition   INTEGER,
     updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
   )`,
  'CREATE INDEX IF NOT EXISTS example_customer_order_counts_partition_idx ON example_customer_order_counts (partition)',
];

export async function createExampleTables(sequelize: Sequelize): Promise<void> {
  for (const statement of EXAMPLE_TABLES) await sequelize.query(statement);
}
