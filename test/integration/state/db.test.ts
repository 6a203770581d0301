import { afterAll, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import { readSetting, SETTINGS } from '../../../core/config.ts';
import { ServiceUnavailableError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { withDatabase } from '../../../state/database-url.ts';
import { connectDatabase, dropDatabase, ensureDatabase } from '../../../state/db.ts';
import { testDatabaseName } from '../../support/database.ts';
import { memoryLogger } from '../../support/memory-logger.ts';

const serverUrl = readSetting(SETTINGS.databaseUrl, process.env);

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('connectDatabase', () => {
  it('turns an unreachable server into one ServiceUnavailableError line naming host:port', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const error = await rejectionOf(connectDatabase('postgres://postgres@127.0.0.1:1/nowhere', silentLogger));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toMatch(/^PostgreSQL unavailable: cannot connect to 127\.0\.0\.1:1\/nowhere: .+/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reports a missing database as unavailable too, with a hint', async () => {
    const error = await rejectionOf(connectDatabase(withDatabase(serverUrl, testDatabaseName('missing')), silentLogger));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toMatch(/does not exist \(npm run db:migrate creates it\)/);
  });

  it('sends SQL to debug and nothing above it', async () => {
    const logger = memoryLogger();
    const sequelize = await connectDatabase(serverUrl, logger, { poolMax: 1 });
    try {
      await sequelize.query('SELECT 42 AS answer', { type: QueryTypes.SELECT });
    } finally {
      await sequelize.close();
    }
    expect(logger.lines.some((line) => line.level === 'debug' && line.message.includes('SELECT 42 AS answer'))).toBe(true);
    expect(logger.lines.filter((line) => line.level !== 'debug')).toEqual([]);
  });
});

describe('ensureDatabase', () => {
  const url = withDatabase(serverUrl, testDatabaseName('ensure'));
  afterAll(() => dropDatabase(url));

  it('creates the database once and is a no-op afterwards, also when raced', async () => {
    const created = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await ensureDatabase(url)).toBe(false);
    const sequelize = await connectDatabase(url, silentLogger);
    await sequelize.close();
  });

  it('reports an unreachable server as ServiceUnavailableError', async () => {
    await expect(ensureDatabase('postgres://postgres@127.0.0.1:1/x')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
