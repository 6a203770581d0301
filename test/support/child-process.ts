/**
 * A child process of a test (a role, an example's runner) and everything it logged, as parsed
 * JSON log lines that can be awaited; SIGKILL, SIGSTOP and SIGINT.
 */
import type { ChildProcess } from 'node:child_process';
import { waitFor } from './kafka.ts';

export interface LogLine {
  level?: string;
  message?: string;
  ns?: string;
  [field: string]: unknown;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process and everything it logged. */
export class RoleProcess {
  readonly name: string;
  readonly lines: LogLine[] = [];
  /** Resolves when the process has exited, however. */
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  #exit: ProcessExit | undefined;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const text = partial + chunk;
        const complete = text.split('\n');
        partial = complete.pop() ?? '';
        for (const line of complete) if (line.trim() !== '') this.lines.push(parseLogLine(line));
      });
    }
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Lines whose message (or raw text) matches. */
  logged(pattern: string | RegExp): LogLine[] {
    return this.lines.filter((line) => matches(line, pattern));
  }

  async waitForLog(pattern: string | RegExp, timeoutMs = 60_000): Promise<LogLine> {
    return waitFor(
      () => {
        if (!this.running && this.logged(pattern).length === 0) throw new Error(`${this.name} exited (${JSON.stringify(this.#exit)})`);
        return this.logged(pattern)[0];
      },
      { timeoutMs, intervalMs: 100, message: `${this.name} to log ${String(pattern)}; last lines:\n${this.tail()}` },
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** kill -9: no shutdown hook runs, in-flight transactions are cut off mid-way. */
  async kill9(): Promise<ProcessExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** Ctrl-C: the graceful path (drain, commit, publish). Rejects if it does not exit in time. */
  async interrupt(timeoutMs = 30_000): Promise<ProcessExit> {
    this.signal('SIGINT');
    return waitFor(() => this.#exit, { timeoutMs, intervalMs: 50, message: `${this.name} to exit after SIGINT; last lines:\n${this.tail()}` });
  }

  tail(count = 15): string {
    return format(this.lines.slice(-count));
  }

  /** The last warnings, errors and non-JSON lines (crash traces), which a tail may have scrolled past. */
  problems(count = 20): string {
    const problems = this.lines.filter((line) => line.level === 'warn' || line.level === 'error' || line.raw !== undefined);
    return problems.length === 0 ? '(no warnings or errors)' : `warnings and errors:\n${format(problems.slice(-count))}\nlast lines:`;
  }
}

function format(lines: LogLine[]): string {
  return lines.map((line) => JSON.stringify(line).slice(0, 400)).join('\n');
}

function parseLogLine(text: string): LogLine {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) return parsed as LogLine;
  } catch {
    // Not a log line (e.g. a crash trace): kept as raw text so it can still be matched and shown.
  }
  return { raw: text };
}

function matches(line: LogLine, pattern: string | RegExp): boolean {
  const text = typeof line.message === 'string' ? line.message : String(line.raw ?? '');
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

// ---------------------------------------------------------------------------------------
// The fixture: database, topics, group, processes.

