import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import { readSetting, SETTINGS } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { withDatabase } from '../../../state/database-url.ts';
import { connectDatabase, dropDatabase } from '../../../state/db.ts';
import { testDatabaseName } from '../../support/database.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the Node that runs the tests (24, from node_modules), as `npm run db:*` would. */
function cli(args: string[], databaseUrl: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['app/db-cli.ts', ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_FORMAT: 'json' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const serverUrl = readSetting(SETTINGS.databaseUrl, process.env);
const unreachable = 'postgres://postgres@127.0.0.1:1/nowhere';

describe('state CLI', () => {
  const url = withDatabase(serverUrl, testDatabaseName('cli'));
  afterAll(() => dropDatabase(url));

  it.each([['0'], ['abc']])('exits 2 naming the flag for --products %s, before touching the database', async (value) => {
    const run = await cli(['seed', '--products', value], unreachable);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`error: invalid setting --products: expected an integer from 1 to 10000000, got "${value}"`);
  });

  it('exits 2 on an unknown flag', async () => {
    const run = await cli(['seed', '--nope'], unreachable);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--nope');
  });

  it('exits 1 with one line naming host:port when the database is down', async () => {
    const run = await cli(['migrate'], unreachable);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: PostgreSQL unavailable: cannot connect to 127\.0\.0\.1:1\//);
  });

  it('prints usage for --help', async () => {
    const run = await cli(['--help'], unreachable);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: node app\/db-cli\.ts/);
  });

  it('refuses to seed before migrating, then creates the database, migrates and seeds', async () => {
    const early = await cli(['seed'], url);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/does not exist/);

    const migrated = await cli(['migrate'], url);
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toMatch(/applied 14 migration\(s\)/);

    const seeded = await cli(['seed', '--products', '50', '--stock', '3'], url);
    expect(seeded.code).toBe(0);
    expect(seeded.stderr).toMatch(/seeded 50 generated products/);

    const sequelize = await connectDatabase(url, silentLogger, { poolMax: 1 });
    try {
      const [row] = await sequelize.query<{ products: string; units: string }>(
        'SELECT (SELECT count(*) FROM products) AS products, (SELECT sum(quantity) FROM inventory) AS units',
        { type: QueryTypes.SELECT },
      );
      expect(row).toEqual({ products: '50', units: '150' });
    } finally {
      await sequelize.close();
    }

    const status = await cli(['status'], url);
    expect(status.stdout.trim().split('\n')).toEqual(['up      0001-products-and-inventory', 'up      0002-orders', 'up      0003-stream-offsets', 'up      0004-outbox', 'up      0005-hot-update-fillfactor', 'up      0006-outbox-parking-and-relay-lease', 'up      0007-inventory-store-table', 'up      0008-origin-watermarks', 'up      0009-last-commit-id', 'up      0010-order-lines', 'up      0011-order-flow', 'up      0012-outbox-framed-rows', 'up      0013-dead-letter-replays', 'up      0014-outbox-payload-compression']);

    const rolledBack = await cli(['rollback', '--to', '0'], url);
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stderr).toMatch(/reverted 14 migration\(s\)/);
  });
});
