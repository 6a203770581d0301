import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import { silentLogger } from '../../../core/logger.ts';
import { connectDatabase } from '../../../state/db.ts';
import { KEEPALIVE_IDLE_MS, pgClientConfig, type SessionSettings, sessionSettingsOf } from '../../../state/pg-session.ts';
import { selectRows } from '../../../state/sql.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

/**
 * The kernel's view of a TCP socket of this process, by its local port: `tr` 2 is the keepalive
 * timer and `when` the clock ticks (USER_HZ, 100 a second) until it fires. Without keepalive an
 * idle established socket has no timer (0); with the kernel's default idle time (7200 s) it
 * would be far above 10 s.
 */
function tcpTimer(localPort: number): { timer: number; seconds: number } {
  const port = localPort.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // Only the live connection: an older one that used the same local port may linger in TIME_WAIT.
      if (!fields[1]?.endsWith(`:${port}`) || fields[3] !== '01') continue;
      const [timer, when] = fields[5]!.split(':');
      return { timer: Number.parseInt(timer!, 16), seconds: Number.parseInt(when!, 16) / 100 };
    }
  }
  throw new Error(`no socket on local port ${localPort}`);
}

async function sessionSettings(query: (sql: string) => Promise<Array<Record<string, string>>>) {
  const [row] = await query(
    "SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('application_name') AS app",
  );
  return row;
}

const SETTINGS: SessionSettings = { statementTimeoutMs: 1_500, connectTimeoutMs: 4_000, idleInTransactionTimeoutMs: 2_500, applicationName: 'pg-session-test' };

describe('PostgreSQL sessions of the app', () => {
  let db: TestDatabase;
  let pool: Sequelize;

  beforeAll(async () => {
    db = await createTestDatabase('pg_session', { migrate: false });
    pool = await connectDatabase(db.url, silentLogger, { poolMax: 1, session: SETTINGS });
  });
  afterAll(async () => {
    await pool?.close();
    await db?.drop();
  });

  it('the pool: statement and idle-in-transaction timeouts set, and TCP keepalive after 10 s idle', async () => {
    expect(await sessionSettings((sql) => selectRows(pool, sql))).toEqual({ statement: '1500ms', idle: '2500ms', app: 'pg-session-test' });
    const manager = pool.connectionManager as unknown as { getConnection(options: object): Promise<pg.Client>; releaseConnection(connection: pg.Client): Promise<void> };
    const client = await manager.getConnection({ type: 'write' });
    try {
      const socket = (client as unknown as { connection: { stream: { localPort: number } } }).connection.stream;
      const { timer, seconds } = tcpTimer(socket.localPort);
      expect(timer).toBe(2);
      expect(seconds).toBeLessThanOrEqual(KEEPALIVE_IDLE_MS / 1000);
    } finally {
      await manager.releaseConnection(client);
    }
  });

  it('the pool: a statement running past the timeout is cancelled by the server', async () => {
    await expect(selectRows(pool, 'SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
  });

  it('a dedicated client from pgClientConfig: the same timeouts and keepalive', async () => {
    const client = new pg.Client(pgClientConfig(db.url, SETTINGS));
    await client.connect();
    try {
      expect(await sessionSettings(async (sql) => (await client.query(sql)).rows)).toEqual({ statement: '1500ms', idle: '2500ms', app: 'pg-session-test' });
      const socket = (client as unknown as { connection: { stream: { localPort: number } } }).connection.stream;
      expect(tcpTimer(socket.localPort).timer).toBe(2);
      await expect(client.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
    } finally {
      await client.end();
    }
  });

  it('the settings of the roles come from PG_STATEMENT_TIMEOUT_MS and PG_CONNECT_TIMEOUT_MS, with the 5 s idle-in-transaction bound', () => {
    expect(sessionSettingsOf({ pgStatementTimeoutMs: 30_000, pgConnectTimeoutMs: 10_000 })).toEqual({ statementTimeoutMs: 30_000, connectTimeoutMs: 10_000, idleInTransactionTimeoutMs: 5_000 });
    // 0 turns the statement timeout off: nothing is sent, the server's default applies.
    expect(pgClientConfig('postgres://x@h/db', { statementTimeoutMs: 0, connectTimeoutMs: 1_000 })).toEqual({
      connectionString: 'postgres://x@h/db',
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
      connectionTimeoutMillis: 1_000,
    });
  });
});
