import type { Sequelize } from 'sequelize';

/** What every migration receives: the pool it runs its DDL on. */
export interface MigrationContext {
  sequelize: Sequelize;
}

export interface MigrationModule {
  up(params: { context: MigrationContext }): Promise<void>;
  down(params: { context: MigrationContext }): Promise<void>;
}

/**
 * Runs DDL statements in one transaction: PostgreSQL's DDL is transactional, so a failing
 * migration leaves nothing half-built behind.
 */
export async function runStatements(context: MigrationContext, statements: string[]): Promise<void> {
  await context.sequelize.transaction(async (transaction) => {
    for (const statement of statements) await context.sequelize.query(statement, { transaction });
  });
}
