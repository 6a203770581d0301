/**
 * The settings every PostgreSQL session of the app is opened with, pooled (Sequelize) or
 * dedicated (the advisory-lock sessions of the order source and the relay), so a dead server,
 * a dropped network path or a statement stuck behind a frozen process is noticed in seconds
 * instead of never:
 * - TCP keepalive after KEEPALIVE_IDLE_MS idle (libuv then probes every second, 10 times), so
 *   an idle session whose server vanished errors out, and whoever holds a lock on it learns it;
 * - a connection timeout (node-postgres waits forever by default);
 * - `statement_timeout`, so no statement waits forever on a lock or a stalled server;
 * - `idle_in_transaction_session_timeout` where asked, so a frozen client cannot hold row locks.
 */
import net from 'node:net';
import pg, { type ClientConfig } from 'pg';
import type { AppConfig } from '../core/config.ts';

/** Idle time before the first keepalive probe. */
export const KEEPALIVE_IDLE_MS = 10_000;

/**
 * Well below the group session timeout: by the time the group gives a frozen replica's
 * partitions to another member, the server has ended the frozen replica's open transaction,
 * so its row locks on stream_offsets cannot block the new owner's claim. Every transaction of
 * the roles is a few statements long; none waits on anything else while open.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 5_000;

export interface SessionSettings {
  /** statement_timeout of the session; 0 = none. */
  statementTimeoutMs: number;
  /** How long opening a connection may take. */
  connectTimeoutMs: number;
  /** idle_in_transaction_session_timeout; 0 or absent = none. */
  idleInTransactionTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell the sessions apart. */
  applicationName?: string;
}

/** The defaults of PG_STATEMENT_TIMEOUT_MS and PG_CONNECT_TIMEOUT_MS, for the app's roles. */
export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS,
};

/** The session settings of the app's roles, from the configuration. */
export function sessionSettingsOf(config: Pick<AppConfig, 'pgStatementTimeoutMs' | 'pgConnectTimeoutMs'>, applicationName?: string): SessionSettings {
  return {
    statementTimeoutMs: config.pgStatementTimeoutMs,
    connectTimeoutMs: config.pgConnectTimeoutMs,
    idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    ...(applicationName ? { applicationName } : {}),
  };
}

/** The node-postgres settings a session opens with (no connection string): shared by both builders below. */
function sessionParameters(settings: SessionSettings) {
  return {
    connectionTimeoutMillis: settings.connectTimeoutMs,
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
    ...(settings.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs } : {}),
    ...(settings.applicationName ? { application_name: settings.applicationName } : {}),
  };
}

/** Configuration of a dedicated `new pg.Client(...)`: every client the app opens outside the pool uses this. */
export function pgClientConfig(url: string, settings: SessionSettings = DEFAULT_SESSION_SETTINGS): ClientConfig {
  return { connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS, ...sessionParameters(settings) };
}

/**
 * Sequelize's `dialectOptions` for the same settings. Sequelize passes only some node-postgres
 * options through, not keepAliveInitialDelayMillis (its `keepAlive: true` would leave the
 * kernel's two-hour default), so the keepalive comes with the socket node-postgres is given.
 */
export function sequelizeDialectOptions(settings: SessionSettings): Record<string, unknown> {
  return { ...sessionParameters(settings), stream: () => new net.Socket({ keepAlive: true, keepAliveInitialDelay: KEEPALIVE_IDLE_MS }) };
}

/**
 * A node-postgres Client with an 'error' listener from birth. Sequelize attaches its own only
 * after the first ReadyForQuery has been handled: when a backend is terminated just as it lets
 * the client in, the FATAL message arrives in the same socket read, is emitted with no listener
 * and would end the process. Sequelize's listener (added later) still invalidates the
 * connection, and queries in flight get the error through their own promises.
 */
class GuardedClient extends pg.Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', () => {});
  }
}

/** node-postgres as Sequelize's `dialectModule`, with GuardedClient in place of Client. */
export const guardedPg: typeof pg = Object.assign(Object.create(pg) as typeof pg, { Client: GuardedClient });
