/**
 * Bench databases on the server of DATABASE_URL. The backlog is built once into a template
 * database; every measured run gets its own copy (CREATE DATABASE ... TEMPLATE), so each
 * client starts from the same pristine rows with no bloat from an earlier run's UPDATEs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseName, quoteIdentifier, withDatabase } from '../../state/database-url.ts';
import { dropDatabase } from '../../state/db.ts';

/** `bench_<label>_<random>`, unique per run, within PostgreSQL's 63-byte identifier limit. */
export function benchDatabaseName(label: string): string {
  const cleaned = label.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return `bench_${cleaned.slice(0, 40)}_${randomBytes(4).toString('hex')}`;
}

/** A copy of the template's database under a new unique name; returns its URL. */
export async function cloneDatabase(templateUrl: string, label: string): Promise<string> {
  const url = withDatabase(templateUrl, benchDatabaseName(label));
  const admin = new pg.Client({ connectionString: withDatabase(templateUrl, 'postgres') });
  await admin.connect();
  try {
    // A template must have no other sessions while it is copied: the caller closes its pools first.
    await admin.query(`CREATE DATABASE ${quoteIdentifier(databaseName(url))} TEMPLATE ${quoteIdentifier(databaseName(templateUrl))}`);
  } finally {
    await admin.end();
  }
  return url;
}

/** Drops every database created through this registry; safe to call twice. */
export class DatabaseRegistry {
  readonly #urls = new Set<string>();

  add(url: string): string {
    this.#urls.add(url);
    return url;
  }

  /** Drops one database now (a finished run's copy), so the server's disk does not fill up. */
  async drop(url: string): Promise<void> {
    await dropDatabase(url);
    this.#urls.delete(url);
  }

  async dropAll(): Promise<void> {
    for (const url of this.#urls) {
      await dropDatabase(url).catch(() => undefined);
      this.#urls.delete(url);
    }
  }
}
