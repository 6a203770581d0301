/**
 * The run's private folder (/tmp/kstream-verify-<pid>-*) and everything started in it. Every
 * child process is recorded, so that a normal end, Ctrl-C, a failure, or at worst the next
 * run's sweep of leftovers stops it: no orphan JVM, role process or PostgreSQL cluster stays.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'kstream-verify-';
/** Set in the environment of every role process, so a sweep can tell ours from anyone else's. */
export const RUN_DIR_ENV = 'KSTREAM_VERIFY_RUN_DIR';

type Step = { name: string; run: () => Promise<void> | void };

export class Workspace {
  readonly dir: string;
  readonly #steps: Step[] = [];
  /** Pids of every child still running, with how to stop them if everything else failed. */
  readonly #children = new Map<number, string>();
  /** Data folders of PostgreSQL clusters started here (for the last-resort stop). */
  readonly #clusters = new Set<string>();
  #closed = false;

  constructor(root = os.tmpdir()) {
    this.dir = mkdtempSync(path.join(root, `${PREFIX}${process.pid}-`));
    // The postgres user must be able to reach its data folder below this one.
    chmodSync(this.dir, 0o755);
    process.once('exit', () => this.#lastResort());
  }

  /** Registers a cleanup step; steps run newest first. */
  onClose(name: string, run: () => Promise<void> | void): void {
    this.#steps.push({ name, run });
  }

  trackChild(pid: number | undefined, label: string): void {
    if (pid !== undefined) this.#children.set(pid, label);
  }

  untrackChild(pid: number | undefined): void {
    if (pid !== undefined) this.#children.delete(pid);
  }

  trackCluster(dataDir: string): void {
    this.#clusters.add(dataDir);
  }

  /** Runs every cleanup step (errors are collected, not thrown), then removes the folder. */
  async close(): Promise<string[]> {
    if (this.#closed) return [];
    this.#closed = true;
    const problems: string[] = [];
    for (const step of this.#steps.reverse()) {
      try {
        await step.run();
      } catch (error) {
        problems.push(`${step.name}: ${(error as Error).message}`);
      }
    }
    this.#lastResort();
    return problems;
  }

  /** Synchronous, so it also works from an 'exit' handler. */
  #lastResort(): void {
    for (const pid of this.#children.keys()) killGroup(pid);
    this.#children.clear();
    for (const dataDir of this.#clusters) stopClusterNow(dataDir);
    this.#clusters.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGKILL to a detached child's whole process group (it may have children of its own). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function stopClusterNow(dataDir: string): void {
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
  const pgCtl = postgresBinary('pg_ctl');
  if (pgCtl) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, '-D', dataDir, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', timeout: 30_000 });
}

/** The newest installed server's binary, e.g. /usr/lib/postgresql/15/bin/initdb. */
export function postgresBinary(name: string): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((entry) => /^\d+$/.test(entry) && existsSync(path.join(base, entry, 'bin', name)))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(base, versions[0], 'bin', name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function procText(pid: number, file: 'cmdline' | 'environ'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Removes what earlier runs left behind when they were killed outright: their folder names
 * carry their pid; for each whose verifier is gone, stops the processes that belong to it
 * (recognised by the folder in their command line or environment) and its cluster.
 */
export function sweepLeftovers(root = os.tmpdir()): string[] {
  const swept: string[] = [];
  for (const entry of readdirSync(root)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(entry);
    if (!match || alive(Number(match[1]))) continue;
    const dir = path.join(root, entry);
    stopClusterNow(path.join(dir, 'pg', 'data'));
    for (const pidText of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const pid = Number(pidText);
      if (pid === process.pid) continue;
      if (procText(pid, 'cmdline').includes(dir) || procText(pid, 'environ').includes(`${RUN_DIR_ENV}=${dir}`)) killGroup(pid);
    }
    rmSync(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}
