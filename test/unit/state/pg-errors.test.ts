/** translatePgError on the errors node-postgres and Sequelize really raise. */
import { describe, expect, it } from '@jest/globals';
import { ConnectionAcquireTimeoutError, ConnectionRefusedError, DatabaseError, UniqueConstraintError } from 'sequelize';
import { ServiceUnavailableError, StreamError } from '../../../core/errors.ts';
import { fromDatabase, StatementRefusedError, sqlState, translatePgError } from '../../../state/pg-errors.ts';

/** A node-postgres error with its SQLSTATE, wrapped by Sequelize as its queries reject. */
function sequelizeError(code: string, message: string, fields: Record<string, unknown> = {}): DatabaseError {
  return new DatabaseError(Object.assign(new Error(message), { code, sql: 'SELECT 1', ...fields }) as Error & { sql: string });
}
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
const retriable = (error: unknown) => translatePgError(error).retriable;

describe('translatePgError', () => {
  it('sees PostgreSQL codes on errors wrapped by Sequelize', () => {
    expect(retriable({ name: 'SequelizeDatabaseError', parent: { code: '40001' } })).toBe(true);
    expect(retriable({ name: 'SequelizeDatabaseError', parent: { code: '23505' } })).toBe(false);
  });

  it('retries a connection node-postgres dropped without an error code', () => {
    expect(retriable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(retriable(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(retriable(new Error('relation "orders" does not exist'))).toBe(false);
  });

  it('reports a lost connection, a shutdown, a server not accepting connections or too many of them as PostgreSQL unavailable', () => {
    for (const code of ['08006', '08003', '57P01', '57P02', '57P03', '53300']) {
      const translated = translatePgError(sequelizeError(code, `server said ${code}`));
      expect(translated).toBeInstanceOf(ServiceUnavailableError);
      expect(translated).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true, message: `PostgreSQL unavailable: server said ${code}` });
    }
    expect(retriable(new DatabaseError(new Error('Connection terminated unexpectedly') as Error & { sql: string }))).toBe(true);
    expect(retriable(new ConnectionRefusedError(socketError('ECONNREFUSED')))).toBe(true);
    expect(retriable(new ConnectionAcquireTimeoutError(new Error('Operation timeout')))).toBe(true);
    expect(retriable(socketError('ECONNRESET'))).toBe(true);
  });

  it('judges an AggregateError (a name resolving to several addresses) by its errors', () => {
    expect(retriable(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')]))).toBe(true);
    expect(retriable(new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' }), new TypeError('bug')]))).toBe(false);
    expect(retriable(new AggregateError([]))).toBe(false);
  });

  it('reports a serialization failure or a deadlock as a retriable conflict', () => {
    for (const code of ['40001', '40P01']) {
      const cause = sequelizeError(code, 'could not serialize access');
      expect(translatePgError(cause, { topic: 't' })).toMatchObject({ code: 'TRANSACTION_CONFLICT', retriable: true, cause, context: { topic: 't', sqlState: code } });
    }
  });

  it('refuses anything else for good, with its SQLSTATE, its constraint and its message', () => {
    const cause = new UniqueConstraintError({ parent: Object.assign(new Error('duplicate key value violates unique constraint "orders_source_seq_unique"'), { code: '23505', constraint: 'orders_source_seq_unique', sql: '' }) });
    const translated = translatePgError(cause);
    expect(translated).toBeInstanceOf(StatementRefusedError);
    expect(translated).toMatchObject({ code: 'REQUEST_REFUSED', retriable: false, sqlState: '23505', cause, context: { sqlState: '23505', constraint: 'orders_source_seq_unique' } });
    expect(translated.message).toBe(cause.message);
    expect(translatePgError(sequelizeError('22003', 'value out of range for type integer'))).toMatchObject({ sqlState: '22003', message: 'value out of range for type integer', retriable: false });
  });

  it('passes a StreamError through unchanged', () => {
    const own = new StreamError('FENCED', 'epoch moved');
    expect(translatePgError(own)).toBe(own);
  });
});

describe('sqlState', () => {
  it('reads the SQLSTATE through Sequelize, and off a translated error', () => {
    expect(sqlState(sequelizeError('23514', 'violates check constraint'))).toBe('23514');
    expect(sqlState(translatePgError(sequelizeError('42P01', 'relation "x" does not exist')))).toBe('42P01');
    expect(sqlState(new Error('no code'))).toBeUndefined();
  });
});

describe('fromDatabase', () => {
  it('tells what Sequelize or node-postgres raised from what anything else threw', () => {
    expect(fromDatabase(sequelizeError('40001', 'x'))).toBe(true);
    expect(fromDatabase(new ConnectionRefusedError(socketError('ECONNREFUSED')))).toBe(true);
    expect(fromDatabase(new TypeError('bug'))).toBe(false);
    expect(fromDatabase(translatePgError(sequelizeError('40001', 'x')))).toBe(false);
  });
});
