import { type MigrationContext, runStatements } from './context.ts';

/**
 * The inventory table becomes exactly the processor's `inventory` store: a row is a known
 * product, an absent row an unknown one. Until now a catalogue product without a row had 0
 * units, so every product lacking one gets it (0 units, version 0), and a trigger gives every
 * new product its row. The `partition` column says which partition's task wrote the row last,
 * so a task restores only its own rows; rows no task wrote yet stay NULL and are loaded when an
 * order first needs them.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    // Nullable without a default: no table rewrite, however many products there are.
    'ALTER TABLE inventory ADD COLUMN partition INTEGER',
    // What a task's restore reads. Rows keep their partition from one write to the next, so the
    // processor's updates stay heap-only (fillfactor, 0005): an index is written only when the
    // indexed value changes.
    'CREATE INDEX inventory_partition_idx ON inventory (partition) WHERE partition IS NOT NULL',
    `INSERT INTO inventory (product_id, quantity, version)
     SELECT p.id, 0, 0 FROM products p WHERE NOT EXISTS (SELECT FROM inventory i WHERE i.product_id = p.id)`,
    // Per statement over the inserted rows, so a seed of 100,000 products stays set-based.
    `CREATE FUNCTION inventory_row_for_new_products() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO inventory (product_id, quantity, version) SELECT id, 0, 0 FROM new_products ON CONFLICT (product_id) DO NOTHING;
       RETURN NULL;
     END $$`,
    `CREATE TRIGGER products_inventory_row AFTER INSERT ON products
     REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION inventory_row_for_new_products()`,
  ]);
}

/** The rows added for products without stock stay: 0 units is what their absence meant before. */
export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    'DROP TRIGGER IF EXISTS products_inventory_row ON products',
    'DROP FUNCTION IF EXISTS inventory_row_for_new_products()',
    'ALTER TABLE inventory DROP COLUMN IF EXISTS partition',
  ]);
}
