import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CliRun, NOWHERE, runScript } from '../../support/cli-run.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

/** Every command here runs against services that are not there, unless `env` names real ones. */
const run = (script: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> => runScript(script, args, { ...NOWHERE, ...env }, 60_000);

/** The contract for a user error: the exit code, exactly one line on stderr, and no stack trace. */
function expectOneLine(result: CliRun, code: number, line: RegExp | string) {
  const lines = result.stderr.trim().split('\n');
  expect({ code: result.code, lines }).toEqual({ code, lines: [expect.stringMatching(typeof line === 'string' ? new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : line)] });
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('user errors of the commands: exit 2, one line, no stack trace', () => {
  it.each([
    ['app/cli.ts', ['describe', '--out', '/nonexistent/x'], 'error: cannot write --out /nonexistent/x: its directory does not exist'],
    ['app/cli.ts', ['describe', '--out', ''], 'error: invalid setting --out: expected a file to write to, got ""'],
    ['app/cli.ts', ['describe', 'extra'], 'error: invalid setting arguments: expected none (options only; see --help), got "extra"'],
    ['app/cli.ts', ['status', '--sample-ms', ''], 'error: invalid setting --sample-ms: expected an integer from 0 to 60000, got ""'],
    ['app/cli.ts', ['nosuch'], 'error: unknown command "nosuch" (see npm run topology -- --help)'],
    ['app/cli.ts', ['run', '--source-id', ''], /^error: invalid setting --source-id: expected letters, digits.*, got ""$/],
    ['app/cli.ts', ['run', '--group', ''], 'error: invalid setting --group: expected a non-empty string, got ""'],
    ['app/cli.ts', ['run', '--replication-factor', '0'], /^error: invalid setting --replication-factor: expected -1 .*, got "0"$/],
    ['app/cli.ts', ['run', 'extra'], 'error: invalid setting arguments: expected none (options only; see --help), got "extra"'],
    ['app/cli.ts', ['run', '--bogus'], 'error: unknown option --bogus (see --help)'],
    ['app/cli.ts', ['run', '--restock-interval', 'often'], /^error: invalid setting --restock-interval: expected a duration from 1.0s to 60m .*, or 0 or off, got "often"$/],
    ['app/cli.ts', ['run', '--role', 'restocker', '--restock-interval', 'off'], /^error: invalid setting --role: expected restocker only with a restock interval .*, got "restocker"$/],
    ['app/cli.ts', ['restock', '--quantity', '5'], 'error: invalid setting --product: expected a product id (an integer from 1 to 2147483647), got nothing'],
    ['app/cli.ts', ['restock', '--product', 'three', '--quantity', '5'], 'error: invalid setting --product: expected a product id (an integer from 1 to 2147483647), got "three"'],
    ['app/cli.ts', ['restock', '--product', '3', '--quantity', '0'], 'error: invalid setting --quantity: expected the units to add (an integer from 1 to 2147483647), got "0"'],
    ['app/cli.ts', ['restock', '--product', '3', '--quantity', '5', '--timeout', 'soon'], /^error: invalid setting --timeout: expected a duration from 1.0s to 60m .*, got "soon"$/],
    ['app/cli.ts', ['restock', '--product', '3', '--quantity', '5', '--wait', '--no-wait'], 'error: invalid setting --wait/--no-wait: expected one of them, not both, got "--wait --no-wait"'],
    ['app/cli.ts', ['cancel'], 'error: invalid setting --order: expected an order id (a UUID such as 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b), got nothing'],
    ['app/cli.ts', ['cancel', '--order', '12345'], 'error: invalid setting --order: expected an order id (a UUID such as 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b), got "12345"'],
    ['app/cli.ts', ['cancel', '--order', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '--no-wait', '--timeout', '5s'], 'error: invalid setting --timeout: expected to be used without --no-wait (it bounds the wait), got "5s"'],
    ['app/cli.ts', ['restock', '--product', '3', '--quantity', '5', 'extra'], 'error: invalid setting arguments: expected none (options only; see --help), got "extra"'],
    ['loadtest/cli.ts', ['--source-id', ''], /^error: invalid setting --source-id: .*, got ""$/],
    ['loadtest/cli.ts', ['--json', '/nonexistent/report.json'], 'error: cannot write --json /nonexistent/report.json: its directory does not exist'],
    ['app/db-cli.ts', ['rollback', '--to', ''], 'error: invalid setting --to: expected a migration name (see db:status) or 0, got ""'],
    ['scripts/services.ts', ['nosuch'], 'error: unknown action "nosuch" (see --help)'],
    ['bench/cli.ts', ['nosuch'], /^error: unknown benchmark "nosuch"/],
  ] as const)('%s %j', async (script, args, line) => {
    expectOneLine(await run(script, [...args]), 2, line);
  });

  it.each([
    [{ ORDERS_TOPIC: '' }, 'error: invalid setting ORDERS_TOPIC: expected a Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -), got ""'],
    [{ DLQ_TOPIC: 'has space' }, 'error: invalid setting DLQ_TOPIC: expected a Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -), got "has space"'],
    [{ CONSUMER_GROUP: ' ' }, 'error: invalid setting CONSUMER_GROUP: expected a non-empty string, got " "'],
    [{ METRICS_HOST: 'http://0.0.0.0' }, /^error: invalid setting METRICS_HOST: expected a host name or IP address/],
    [{ HALTED_LIVENESS_TIMEOUT_MS: '-5' }, /^error: invalid setting HALTED_LIVENESS_TIMEOUT_MS: expected an integer/],
    [{ PG_STATEMENT_TIMEOUT_MS: 'soon' }, /^error: invalid setting PG_STATEMENT_TIMEOUT_MS: expected an integer/],
  ])('run with %j', async (env, line) => {
    expectOneLine(await run('app/cli.ts', ['run', '--role', 'relay'], env as Record<string, string>), 2, line);
  });
});

describe('errors that need the database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cli_errors');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('db:rollback --to an unknown migration: exit 2, one line listing what can be rolled back to, nothing reverted', async () => {
    const result = await run('app/db-cli.ts', ['rollback', '--to', 'nosuch'], { DATABASE_URL: db.url });
    expectOneLine(result, 2, /^error: no executed migration named "nosuch" to roll back to \(executed: 0001-products-and-inventory, .*; see npm run db:status\)$/);
    const status = await run('app/db-cli.ts', ['status'], { DATABASE_URL: db.url });
    expect(status.stdout).not.toContain('pending');
  });

  it('a service that is down: exit 1, one line', async () => {
    expectOneLine(await run('app/cli.ts', ['status', '--sample-ms', '0']), 1, /^error: PostgreSQL unavailable: cannot connect to 127\.0\.0\.1:1\/nowhere/);
  });
});

describe('--help', () => {
  it.each([
    ['app/cli.ts', ['--help'], [0, 1, 2]],
    ['app/cli.ts', ['run', '--help'], [0, 1, 2, 130]],
    ['app/cli.ts', ['describe', '--help'], [0, 1, 2]],
    ['app/cli.ts', ['status', '--help'], [0, 1, 2]],
    ['app/cli.ts', ['restock', '--help'], [0, 1, 2]],
    ['app/cli.ts', ['cancel', '--help'], [0, 1, 2]],
    ['app/db-cli.ts', ['--help'], [0, 1, 2]],
    ['scripts/services.ts', ['--help'], [0, 1, 2]],
  ] as const)('%s %j documents every exit code', async (script, args, codes) => {
    const result = await run(script, [...args]);
    expect(result.code).toBe(0);
    const section = result.stdout.slice(result.stdout.indexOf('Exit codes:'));
    expect(section.startsWith('Exit codes:')).toBe(true);
    for (const code of codes) expect(section).toMatch(new RegExp(`^  ${code}\\s+\\S`, 'm'));
  });

  it('of the load test, the benches and the verifier documents their exit codes too', async () => {
    expect((await run('loadtest/cli.ts', ['--help'])).stdout).toMatch(/Exit codes: 0 .*; 1 .*\n2 .*; 3 /);
    expect((await run('bench/cli.ts', ['--help'])).stdout).toContain('Exit codes:');
    expect((await run('verify/cli.ts', ['--help'])).stdout).toMatch(/Exit codes: 0 every check held; 1 a check failed[^\n]*\n2 bad usage; 130 interrupted/);
  });
});
