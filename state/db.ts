import type pg from 'pg';
import { Sequelize } from 'sequelize';
import { errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { databaseName, quoteIdentifier, serverAddress, withDatabase } from './database-url.ts';
import { guardedPg, pgClientConfig, type SessionSettings, sequelizeDialectOptions } from './pg-session.ts';

/**
 * Sessions opened without explicit settings (tests, benches, bulk admin commands): keepalive
 * and a connection timeout, but no statement timeout, because seeding millions of rows or
 * creating a database from a template may take longer than any bound an app role would use.
 */
const ADMIN_SESSION: SessionSettings = { statementTimeoutMs: 0, connectTimeoutMs: 10_000 };

export interface ConnectOptions {
  /** Pooled connections; each concurrent transaction holds one. */
  poolMax?: number;
  /**
   * Timeouts of every pooled session (see pg-session.ts); the app's roles pass
   * sessionSettingsOf(config). Default: keepalive and a connection timeout only.
   */
  session?: SessionSettings;
}

/**
 * Opens a pool and proves the server answers. An unreachable server (or a missing
 * database) becomes ServiceUnavailableError with one line naming host:port, so a CLI can
 * print it as is. SQL goes to `logger.debug` only.
 */
export async function connectDatabase(url: string, logger: Logger, opts: ConnectOptions = {}): Promise<Sequelize> {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: guardedPg,
    logging: (sql) => logger.debug(sql),
    pool: { max: opts.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    dialectOptions: sequelizeDialectOptions(opts.session ?? ADMIN_SESSION),
  });
  try {
    await sequelize.authenticate({ logging: false });
  } catch (error) {
    await sequelize.close().catch(() => undefined);
    throw unavailable(url, error);
  }
  logger.debug('connected to PostgreSQL', { server: serverAddress(url), database: databaseName(url) });
  return sequelize;
}

/**
 * Creates the database the URL names unless it exists, through the `postgres` database of
 * the same server. Returns whether it created it. Safe against a concurrent creator.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withAdminClient(url, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (error) {
      // Someone else created it between our look and our CREATE: that is what we wanted.
      if (isDuplicateDatabase(error)) return false;
      throw error;
    }
  });
}

/** Drops the database the URL names, closing other sessions on it first (test cleanup). */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const adminUrl = withDatabase(url, 'postgres');
  const client = new guardedPg.Client(pgClientConfig(adminUrl, ADMIN_SESSION));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unavailable(adminUrl, error);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function unavailable(url: string, error: unknown): ServiceUnavailableError {
  const cause = (error as { original?: unknown }).original ?? error;
  const code = (cause as { code?: unknown }).code;
  const reason = errorMessage(cause).split('\n')[0] || (typeof code === 'string' ? code : 'connection failed');
  const hint = code === '3D000' ? ' (npm run db:migrate creates it)' : '';
  return new ServiceUnavailableError('PostgreSQL', `cannot connect to ${serverAddress(url)}/${databaseName(url)}: ${reason}${hint}`, error);
}

function isDuplicateDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // 42P04 duplicate_database; 23505 when two CREATEs race on pg_database's unique index.
  return code === '42P04' || code === '23505';
}
