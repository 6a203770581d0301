import { randomBytes } from 'node:crypto';
import type { Sequelize } from 'sequelize';
import { readSetting, SETTINGS } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { withDatabase } from '../../state/database-url.ts';
import { connectDatabase, dropDatabase, ensureDatabase } from '../../state/db.ts';
import { migrate } from '../../state/migrator.ts';
import type { SessionSettings } from '../../state/pg-session.ts';

export interface TestDatabase {
  url: string;
  sequelize: Sequelize;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** `t_<label>_<random>`, lower-case and within PostgreSQL's 63-byte identifier limit. */
export function testDatabaseName(label: string, random: string = randomBytes(4).toString('hex')): string {
  const cleaned = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return `t_${cleaned.slice(0, 63 - 3 - random.length - 1)}_${random}`;
}

/**
 * A fresh, migrated database on the server of DATABASE_URL, for one test file. Register
 * `drop` in afterAll right where you create it.
 */
export async function createTestDatabase(label: string, opts: { migrate?: boolean; session?: SessionSettings } = {}): Promise<TestDatabase> {
  const serverUrl = readSetting(SETTINGS.databaseUrl, process.env);
  const url = withDatabase(serverUrl, testDatabaseName(label));
  await ensureDatabase(url);
  const sequelize = await connectDatabase(url, silentLogger, { poolMax: 5, ...(opts.session ? { session: opts.session } : {}) });
  if (opts.migrate ?? true) await migrate(sequelize, silentLogger);
  return {
    url,
    sequelize,
    async drop() {
      await sequelize.close();
      await dropDatabase(url);
    },
  };
}
