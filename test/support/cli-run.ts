/**
 * Runs one of the project's commands as a user would, to its exit, and keeps what it printed:
 * the harness of the tests of the commands' errors and help.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Nothing listens here: a command that touched a service before checking its input would exit 1, not 2. */
export const NOWHERE = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', KAFKA_BROKERS: '127.0.0.1:1' };

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `command ...args` from the repository's root, with JSON logs, the test's environment and `env` over it. */
export function runCommand(command: string, args: string[], env: Record<string, string | undefined>, timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, LOG_FORMAT: 'json', ...env }, timeout: timeoutMs }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A script run with the Node that runs the tests (24, from node_modules), as `npm run ...` would. */
export function runScript(script: string, args: string[], env: Record<string, string | undefined>, timeoutMs?: number): Promise<CliRun> {
  return runCommand(process.execPath, [script, ...args], env, timeoutMs);
}
