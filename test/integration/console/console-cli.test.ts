/**
 * The console's command line: `npm run console -- --help`, bad flags of `npm run console` and of
 * `topology run --console-port` (exit 2, one line naming the flag, before anything connects),
 * and a port in use (one line naming the port, exit 1, no stack trace).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CommandFixture, createCommandFixture } from '../../support/command-cli.ts';
import { NOWHERE, runCommand, runScript } from '../../support/cli-run.ts';
import { brokersFromEnv } from '../../support/kafka.ts';

const node = (script: string, args: string[], env: Record<string, string | undefined> = NOWHERE) => runScript(script, args, env);

/** Log lines (JSON) aside, what the command said on stderr. */
function errorLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{'));
}

describe('the console command line', () => {
  it('`npm run console -- --help` prints the usage and exits 0', async () => {
    const result = await runCommand('npm', ['run', '-s', 'console', '--', '--help'], NOWHERE);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run console -- \[--port PORT\] \[--interval-ms MS\]/);
    expect(result.stdout).toContain('--interval-ms MS');
    expect(result.stdout).toContain('Exit codes:');
  });

  it('`topology run --help` names --console-port', async () => {
    const result = await node('app/cli.ts', ['run', '--help']);
    expect(result.stdout).toContain('--console-port PORT');
  });

  it.each([
    ['app/console/cli.ts', ['--port', '0'], 'error: invalid setting --port: expected an integer from 1 to 65535, got "0"'],
    ['app/console/cli.ts', ['--port', 'eighty'], 'error: invalid setting --port: expected an integer from 1 to 65535, got "eighty"'],
    ['app/console/cli.ts', ['--interval-ms', '5'], 'error: invalid setting --interval-ms: expected an integer from 200 to 60000, got "5"'],
    ['app/console/cli.ts', ['--bogus'], 'error: unknown option --bogus (see --help)'],
    ['app/console/cli.ts', ['extra'], 'error: invalid setting arguments: expected none (options only; see --help), got "extra"'],
    ['app/cli.ts', ['run', '--console-port', '70000'], 'error: invalid setting --console-port: expected an integer from 1 to 65535, got "70000"'],
  ])('%s %j: exit 2, one line naming the flag', async (script, args, line) => {
    const result = await node(script, args);
    expect({ code: result.code, lines: result.stderr.trim().split('\n') }).toEqual({ code: 2, lines: [line] });
  });

  describe('a port in use', () => {
    let fixture: CommandFixture;
    let blocker: net.Server;
    let port: number;

    beforeAll(async () => {
      fixture = await createCommandFixture('console_cli', { partitions: 1 });
      blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      port = (blocker.address() as net.AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => blocker?.close(resolve));
      await fixture?.cleanup();
    });

    const expected = () => `error: console unavailable: cannot listen on 127.0.0.1 port ${port} (--console-port / --port): it is in use by another program`;

    it('`npm run console`: one line naming the port, exit 1', async () => {
      const result = await node('app/console/cli.ts', ['--port', String(port)], { ...fixture.topics, DATABASE_URL: fixture.db.url, KAFKA_BROKERS: brokersFromEnv().join(','), PARTITIONS: '1' });
      expect({ code: result.code, lines: errorLines(result.stderr) }).toEqual({ code: 1, lines: [expected()] });
      expect(result.stderr).not.toMatch(/^\s+at /m);
    });

    it('`topology run --console-port`: one line naming the port, exit 1, before any role starts', async () => {
      const result = await fixture.run('run', ['--no-status', '--console-port', String(port)]);
      expect({ code: result.code, lines: errorLines(result.stderr) }).toEqual({ code: 1, lines: [expected()] });
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).not.toContain('"message":"running; Ctrl-C to stop"');
    });
  });
});
