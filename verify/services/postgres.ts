/**
 * A private PostgreSQL cluster for one verifier run: initdb in the run's folder, its own port
 * and socket folder, so restarting it never touches the user's server. initdb and pg_ctl
 * refuse to run as root, so both run as the postgres user on a folder it owns.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { exec } from './exec.ts';
import { freePort } from './ports.ts';
import { postgresBinary, type Workspace } from './workspace.ts';

export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/<database> */
  url(database: string): string;
  /** `pg_ctl restart -m fast`: every session is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  /** pg_terminate_backend on every client backend of `database` but the caller's; returns how many. */
  terminateBackends(database: string): Promise<number>;
  /** pg_dump of `database` (plain SQL) to `file` in the cluster's folder, so a failed run can be examined afterwards. */
  dump(database: string, file: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(workspace: Workspace, usedPorts: Set<number>): Promise<PrivatePostgres> {
  const initdb = postgresBinary('initdb');
  const pgCtl = postgresBinary('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const home = path.join(workspace.dir, 'pg');
  const data = path.join(home, 'data');
  mkdirSync(home, { mode: 0o700 });
  await exec('chown', ['postgres:postgres', home]);
  const port = await freePort(usedPorts);
  usedPorts.add(port);
  const asPostgres = (binary: string, args: string[], timeoutMs?: number) => exec('runuser', ['-u', 'postgres', '--', binary, ...args], { cwd: home, ...(timeoutMs ? { timeoutMs } : {}) });

  await asPostgres(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const serverOptions = `-p ${port} -k ${home} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  workspace.trackCluster(data);
  await asPostgres(pgCtl, ['-D', data, '-o', serverOptions, '-l', path.join(home, 'log'), '-w', '-t', '60', 'start']);
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await asPostgres(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  };
  workspace.onClose('stop PostgreSQL', stop);

  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    restart: async () => {
      await asPostgres(pgCtl, ['-D', data, '-o', serverOptions, '-l', path.join(home, 'log'), '-m', 'fast', '-w', '-t', '60', 'restart']);
    },
    terminateBackends: async (database) => {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const result = await client.query(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          [database],
        );
        return result.rows.filter((row: { terminated: boolean }) => row.terminated).length;
      } finally {
        await client.end().catch(() => {});
      }
    },
    dump: async (database, file) => {
      const pgDump = postgresBinary('pg_dump');
      if (!pgDump || !running) return;
      await asPostgres(pgDump, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-f', path.join(home, file), database], 120_000);
    },
    stop,
  };
}
