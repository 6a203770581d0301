/**
 * The pipeline's roles as separate OS processes, the way production runs them
 * (`node app/cli.ts run --role source|processor|relay`), each under a small supervisor:
 * the verifier may SIGKILL one and start it again; a process that exits by itself is recorded
 * as a failure (with its last log lines) and, like a supervisor would, started again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UnexpectedExit } from './checks.ts';
import { killGroup, RUN_DIR_ENV, type Workspace } from './services/workspace.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'app', 'cli.ts');
const KEPT_LINES = 500;

export type RoleName = 'source' | 'processor' | 'relay';

export interface RoleSpec {
  /** e.g. processor-2 */
  name: string;
  role: RoleName;
  args: string[];
  env: Record<string, string>;
}

/** One role, restarted whenever it is gone, until `stop`. */
export class SupervisedRole {
  readonly spec: RoleSpec;
  /** The last lines it logged, across restarts (JSON lines kept as text). */
  readonly lines: string[] = [];
  starts = 0;
  /** Every line it ever logged, in the run's folder (kept after a failed run). */
  readonly logFile: string;
  readonly #log: WriteStream;
  /** Index in `lines` where the current process's output begins. */
  #startLine = 0;
  #child: ChildProcess | undefined;
  #expectingExit = false;
  #stopped = false;
  readonly #workspace: Workspace;
  readonly #onUnexpectedExit: (exit: UnexpectedExit) => void;
  readonly #clock: () => number;
  readonly #restartDelayMs: number;

  constructor(spec: RoleSpec, deps: { workspace: Workspace; clock: () => number; restartDelayMs: number; onUnexpectedExit: (exit: UnexpectedExit) => void }) {
    this.spec = spec;
    this.logFile = path.join(deps.workspace.dir, `${spec.name}.log`);
    this.#log = createWriteStream(this.logFile, { flags: 'a' });
    // A log that cannot be written must not take the verifier down; the lines are also kept in memory.
    this.#log.on('error', () => {});
    this.#workspace = deps.workspace;
    this.#clock = deps.clock;
    this.#restartDelayMs = deps.restartDelayMs;
    this.#onUnexpectedExit = deps.onUnexpectedExit;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  start(): void {
    if (this.#stopped || this.#child) return;
    this.starts++;
    this.#startLine = this.lines.length;
    if (this.#log.writable) this.#log.write(`--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [CLI, 'run', '--role', this.spec.role, '--no-status', ...this.spec.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C meant for the verifier must not stop the roles behind its back.
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', [RUN_DIR_ENV]: this.#workspace.dir, ...this.spec.env, REPLICA_ID: this.spec.name },
    });
    this.#workspace.trackChild(child.pid, this.spec.name);
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const complete = (partial + chunk).split('\n');
        partial = complete.pop() ?? '';
        for (const line of complete) if (line.trim() !== '') this.#keep(line);
      });
    }
    child.once('exit', (code, signal) => {
      this.#workspace.untrackChild(child.pid);
      this.#child = undefined;
      if (this.#log.writable) this.#log.write(`--- exit code ${code} signal ${signal} at ${new Date().toISOString()}\n`);
      if (this.#expectingExit || this.#stopped) {
        this.#expectingExit = false;
        return;
      }
      this.#onUnexpectedExit({ role: this.spec.name, code, signal, atMs: this.#clock(), lastLines: this.problems() });
      setTimeout(() => this.start(), this.#restartDelayMs).unref();
    });
    this.#child = child;
  }

  /** kill -9, then started again after `downMs` (as a supervisor would). Resolves once it runs again. */
  async kill9(downMs: number): Promise<void> {
    const child = this.#child;
    if (child) {
      this.#expectingExit = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killGroup(child.pid!);
      await exited;
    }
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.start();
  }

  /** Ctrl-C (the graceful path); SIGKILL if it has not exited within `timeoutMs`. Not restarted. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => killGroup(child.pid!), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Resolves once the current process logged a line matching `pattern`; rejects on timeout, naming its last lines. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = this.#startLine;
    for (;;) {
      for (; seen < this.lines.length; seen++) if (pattern.test(this.lines[seen]!)) return;
      if (Date.now() > deadline) throw new Error(`${this.spec.name} did not log ${pattern} within ${timeoutMs / 1000}s; last lines: ${this.problems(5).join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  closeLog(): Promise<void> {
    return new Promise((resolve) => this.#log.end(resolve));
  }

  /** Warnings, errors and lines that are not JSON (crash traces), newest last. */
  problems(count = 12): string[] {
    const problems = this.lines.filter((line) => !line.startsWith('{') || /"level":"(warn|error)"/.test(line));
    return (problems.length > 0 ? problems : this.lines).slice(-count).map((line) => line.slice(0, 500));
  }

  #keep(line: string): void {
    if (this.#log.writable) this.#log.write(`${line}\n`);
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) {
      const drop = this.lines.length - KEPT_LINES;
      this.lines.splice(0, drop);
      this.#startLine = Math.max(0, this.#startLine - drop);
    }
  }
}
