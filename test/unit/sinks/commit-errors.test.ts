import { describe, expect, it } from '@jest/globals';
import { DatabaseError } from 'sequelize';
import { isRetriable, ServiceUnavailableError } from '../../../core/errors.ts';
import { classifyCommitError } from '../../../sinks/commit-errors.ts';
import { deadLetterRow } from '../../../sinks/dead-letter.ts';
import { StatementRefusedError, translatePgError } from '../../../state/pg-errors.ts';

/** A node-postgres error with its SQLSTATE, wrapped by Sequelize (as BEGIN or COMMIT rejects). */
function sequelizeError(code: string, message: string): DatabaseError {
  return new DatabaseError(Object.assign(new Error(message), { code, sql: 'COMMIT' }));
}

describe('classifyCommitError', () => {
  it.each([
    ['23514', 'new row violates check constraint "x"'],
    ['22003', 'value out of range for type integer'],
    ['22P02', 'invalid input syntax for type uuid'],
  ])('leaves %s (caused by what the batch holds) non-retriable, so the batch is split', (code, message) => {
    const error = sequelizeError(code, message);
    const classified = classifyCommitError(error);
    expect(classified).toBeInstanceOf(StatementRefusedError);
    expect(classified).toMatchObject({ sqlState: code, message, cause: error });
    expect(isRetriable(classified)).toBe(false);
    // A statement of the sink's, translated already, is left as it is.
    const translated = translatePgError(error);
    expect(classifyCommitError(translated)).toBe(translated);
  });

  it.each([
    ['42P01', 'relation "inventory" does not exist'],
    ['42501', 'permission denied for table orders'],
    ['25006', 'cannot execute UPDATE in a read-only transaction'],
    ['53100', 'could not extend file: No space left on device'],
  ])('reports %s (raised whatever the batch holds) retriable, so it is waited out', (code, message) => {
    for (const failure of [sequelizeError(code, message), translatePgError(sequelizeError(code, message))]) {
      const classified = classifyCommitError(failure);
      expect(isRetriable(classified)).toBe(true);
      expect((classified as Error).message).toContain(`SQLSTATE ${code}`);
    }
  });

  it('passes retriable errors through unchanged, and translates those of BEGIN and COMMIT', () => {
    const error = new ServiceUnavailableError('PostgreSQL', 'connection reset');
    expect(classifyCommitError(error)).toBe(error);
    expect(classifyCommitError(sequelizeError('40001', 'could not serialize access'))).toMatchObject({ code: 'TRANSACTION_CONFLICT', retriable: true });
  });

  it('leaves what the batch threw itself as it is', () => {
    const error = new TypeError('effects failed');
    expect(classifyCommitError(error)).toBe(error);
  });
});

describe('deadLetterRow', () => {
  it('stores a key or message holding U+0000 (which text and jsonb refuse) with a replacement, and the exact key in a header', () => {
    const key = Buffer.from('7\u0000x', 'utf8');
    const row = deadLetterRow(
      { topic: 'orders', partition: 1, offset: 9n, key, value: Buffer.from('v'), headers: {}, errorClass: 'DecodeError', message: 'bad \u0000 byte', node: 'src', timestamp: 0 },
      'orders.dlq',
    );
    expect(row.key).toBe('7\uFFFDx');
    expect(row.headers['dlq-error-message']).toBe('bad \uFFFD byte');
    expect(Buffer.from(row.headers['dlq-original-key-base64']!, 'base64')).toEqual(key);
    expect(JSON.stringify(row.headers)).not.toContain('\\u0000');
  });

  it("keeps the record's trace headers, so its publish belongs to the trace of whatever sent it, and names itself with its own event id", () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const row = deadLetterRow(
      {
        topic: 'orders', partition: 1, offset: 9n, key: null, value: null, errorClass: 'DecodeError', message: 'm', node: 'src', timestamp: 0,
        headers: { traceparent, tracestate: 'vendor=1', 'event-id': 'original' },
      },
      'orders.dlq',
    );
    expect(row.headers).toMatchObject({ traceparent, tracestate: 'vendor=1', 'event-type': 'DeadLetter' });
    expect(row.headers['event-id']).not.toBe('original');
    expect(row.headers['dlq-original-event-id']).toBe('original');
  });

  it('adds no key header when the key is storable as is', () => {
    const row = deadLetterRow(
      { topic: 'orders', partition: 1, offset: 9n, key: Buffer.from('7'), value: null, headers: {}, errorClass: 'DecodeError', message: 'm', node: 'src', timestamp: 0 },
      'orders.dlq',
    );
    expect(row.key).toBe('7');
    expect(row.headers['dlq-original-key-base64']).toBeUndefined();
  });
});
