import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../core/logger.ts';
import type { MigrationContext } from './migrations/context.ts';
import { MIGRATIONS } from './migrations/index.ts';

/** Arbitrary but fixed: every process that migrates this database agrees on it. */
const MIGRATION_LOCK_KEY = 7_300_418_512;

function createUmzug(sequelize: Sequelize, logger: Logger): Umzug<MigrationContext> {
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (entry: Record<string, unknown>) => {
    const { event, name, ...rest } = entry;
    logger[level](`${String(event ?? 'migration')}${name ? ` ${String(name)}` : ''}`, rest);
  };
  return new Umzug<MigrationContext>({
    migrations: MIGRATIONS.map(({ name, module }) => ({ name, up: module.up, down: module.down })),
    context: { sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations', modelName: 'SchemaMigration' }),
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
}

/** Applies every pending migration; returns the names applied, oldest first. */
export async function migrate(sequelize: Sequelize, logger: Logger): Promise<string[]> {
  const log = logger.child('migrate');
  const applied = await underMigrationLock(sequelize, log, () => createUmzug(sequelize, log).up());
  log.info(applied.length ? `applied ${applied.length} migration(s)` : 'schema is up to date', { applied: applied.map((m) => m.name) });
  return applied.map((m) => m.name);
}

/**
 * Reverts migrations: by default the last one; `to: 0` all of them; `to: name` down to and
 * including that one. Returns the names reverted, newest first.
 */
export async function rollback(sequelize: Sequelize, logger: Logger, opts: { to?: 0 | string } = {}): Promise<string[]> {
  const log = logger.child('rollback');
  const umzug = createUmzug(sequelize, log);
  const reverted = await underMigrationLock(sequelize, log, () => (opts.to === undefined ? umzug.down() : umzug.down({ to: opts.to })));
  log.info(reverted.length ? `reverted ${reverted.length} migration(s)` : 'nothing to revert', { reverted: reverted.map((m) => m.name) });
  return reverted.map((m) => m.name);
}

/** Executed and pending migration names, for `status`-style output. */
export async function migrationStatus(sequelize: Sequelize, logger: Logger): Promise<{ executed: string[]; pending: string[] }> {
  const umzug = createUmzug(sequelize, logger.child('status'));
  const [executed, pending] = await Promise.all([umzug.executed(), umzug.pending()]);
  return { executed: executed.map((m) => m.name), pending: pending.map((m) => m.name) };
}

/**
 * Two replicas starting at once must not both run the same migration. A transaction holds
 * an advisory lock on one pooled connection while Umzug works on the others; the lock goes
 * away with the transaction, even if this process dies.
 */
async function underMigrationLock<T>(sequelize: Sequelize, logger: Logger, work: () => Promise<T>): Promise<T> {
  const poolMax = sequelize.config.pool?.max ?? 5;
  if (poolMax < 2) {
    logger.warn('pool too small to hold the migration lock; migrating without it', { poolMax });
    return work();
  }
  return sequelize.transaction(async (transaction) => {
    await sequelize.query('SELECT pg_advisory_xact_lock($key)', { bind: { key: MIGRATION_LOCK_KEY }, transaction, logging: false });
    return work();
  });
}
