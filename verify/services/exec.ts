/** Runs a service-management command (initdb, pg_ctl, the Kafka storage tool) and fails with its output. */
import { spawn } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export function exec(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${[command, ...args].join(' ')} failed (${signal ?? `exit ${code}`}): ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}
