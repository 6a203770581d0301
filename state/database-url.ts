/**
 * Pure helpers over a postgres:// URL: which server and which database it names. Kept apart
 * from the code that connects so error messages and test database names are unit-testable.
 */

/** `host:port` of the server, for one-line error messages (never the password). */
export function serverAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
}

/** The database the URL names; PostgreSQL defaults it to the user name, and so do we. */
export function databaseName(url: string): string {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return name || decodeURIComponent(parsed.username) || 'postgres';
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** A double-quoted SQL identifier: CREATE/DROP DATABASE take no bind parameters. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
