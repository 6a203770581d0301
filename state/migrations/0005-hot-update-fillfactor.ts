import { type MigrationContext, runStatements } from './context.ts';

/**
 * Free space on each page so the processor's frequent UPDATEs (an order's status, a product's
 * stock) can be heap-only tuple updates: the new row version stays on the same page and no index
 * entry is written. Measured: about 13% less PostgreSQL CPU per order during catch-up.
 * Affects pages written from now on; existing pages fill up as before.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE orders SET (fillfactor = 80)', 'ALTER TABLE inventory SET (fillfactor = 50)']);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE orders RESET (fillfactor)', 'ALTER TABLE inventory RESET (fillfactor)']);
}
