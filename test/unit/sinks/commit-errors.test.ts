import { describe, expect, it } from '@jest/globals';
import { isRetriable, ServiceUnavailableError } from '../../../core/errors.ts';
import { classifyCommitError, sqlState } from '../../../sinks/commit-errors.ts';
import { deadLetterRow } from '../../../sinks/dead-letter.ts';

/** The shape Sequelize gives a PostgreSQL error: the driver error with its SQLSTATE on `parent`. */
function sequelizeError(code: string, message: string): Error {
  const driver = Object.assign(new Error(message), { code });
  return Object.assign(new Error(message), { name: 'SequelizeDatabaseError', parent: driver, original: driver });
}

describe('classifyCommitError', () => {
  it('reads the SQLSTATE through Sequelize', () => {
    expect(sqlState(sequelizeError('23514', 'violates check constraint'))).toBe('23514');
    expect(sqlState(new Error('no code'))).toBeUndefined();
  });

  it.each([
    ['23514', 'new row violates check constraint "x"'],
    ['22003', 'value out of range for type integer'],
    ['22P02', 'invalid input syntax for type uuid'],
  ])('leaves %s (caused by what the batch holds) non-retriable, so the batch is split', (code, message) => {
    const error = sequelizeError(code, message);
    expect(classifyCommitError(error)).toBe(error);
    expect(isRetriable(classifyCommitError(error))).toBe(false);
  });

  it.each([
    ['42P01', 'relation "inventory" does not exist'],
    ['42501', 'permission denied for table orders'],
    ['25006', 'cannot execute UPDATE in a read-only transaction'],
    ['53100', 'could not extend file: No space left on device'],
  ])('reports %s (raised whatever the batch holds) retriable, so it is waited out', (code, message) => {
    const classified = classifyCommitError(sequelizeError(code, message));
    expect(isRetriable(classified)).toBe(true);
    expect((classified as Error).message).toContain(`SQLSTATE ${code}`);
  });

  it('passes retriable errors through unchanged', () => {
    const error = new ServiceUnavailableError('PostgreSQL', 'connection reset');
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

  it('adds no key header when the key is storable as is', () => {
    const row = deadLetterRow(
      { topic: 'orders', partition: 1, offset: 9n, key: Buffer.from('7'), value: null, headers: {}, errorClass: 'DecodeError', message: 'm', node: 'src', timestamp: 0 },
      'orders.dlq',
    );
    expect(row.key).toBe('7');
    expect(row.headers['dlq-original-key-base64']).toBeUndefined();
  });
});
