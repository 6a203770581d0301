import { describe, expect, it } from '@jest/globals';
import { databaseName, quoteIdentifier, serverAddress, withDatabase } from '../../../state/database-url.ts';
import { testDatabaseName } from '../../support/database.ts';

describe('database URL helpers', () => {
  it('names host:port without credentials, defaulting the port', () => {
    expect(serverAddress('postgres://u:secret@db.example:6543/app')).toBe('db.example:6543');
    expect(serverAddress('postgresql://u@10.0.0.1/app')).toBe('10.0.0.1:5432');
  });

  it('reads the database name, falling back to the user name as PostgreSQL does', () => {
    expect(databaseName('postgres://postgres@127.0.0.1:5432/orders_db')).toBe('orders_db');
    expect(databaseName('postgres://alice@127.0.0.1:5432')).toBe('alice');
    expect(databaseName('postgres://127.0.0.1:5432/')).toBe('postgres');
    expect(databaseName('postgres://u@h/my%20db')).toBe('my db');
  });

  it('swaps the database and keeps server, credentials and query', () => {
    expect(withDatabase('postgres://u:p@h:5433/app?sslmode=disable', 'postgres')).toBe('postgres://u:p@h:5433/postgres?sslmode=disable');
  });

  it('quotes identifiers, doubling embedded quotes', () => {
    expect(quoteIdentifier('t_x')).toBe('"t_x"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});

describe('testDatabaseName', () => {
  it('is lower-case, prefixed, sanitised and within 63 bytes', () => {
    expect(testDatabaseName('Offset Store!', 'abcd1234')).toBe('t_offset_store_abcd1234');
    const long = testDatabaseName('x'.repeat(200), 'abcd1234');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long.endsWith('_abcd1234')).toBe(true);
  });

  it('differs between calls with the same label', () => {
    expect(testDatabaseName('same')).not.toBe(testDatabaseName('same'));
  });
});
