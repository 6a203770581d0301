import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../core/config.ts';
import { createLogger } from '../../../core/logger.ts';
import { redactSecrets, redactUrl, redactValue } from '../../../core/redact.ts';

describe('redactSecrets', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/kstream', 'postgres://app:***@db:5432/kstream'],
    ['cannot connect to postgresql://app:p%40ss@10.0.0.1/x: refused', 'cannot connect to postgresql://app:***@10.0.0.1/x: refused'],
    ['two: http://a:b@h1/ and redis://:only@h2:6379', 'two: http://a:***@h1/ and redis://:***@h2:6379'],
    ['an @ in it: postgres://u:p@ss@h/db', 'an @ in it: postgres://u:***@h/db'],
    ["host=db password=s3cret user=app", 'host=db password=*** user=app'],
    ["password='it is secret' dbname=x", 'password=*** dbname=x'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(redactSecrets(input)).not.toMatch(/s3cret|p%40ss|:b@|only|it is secret|p@ss/);
  });

  it('leaves text without credentials as it is', () => {
    for (const text of ['postgres://postgres@127.0.0.1:5432/kstream', 'host 127.0.0.1:9092 is down', 'user@example.com', 'http://host:8080/path']) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe('redactUrl', () => {
  it('takes everything up to the last @ as the password, even in a URL no parser accepts', () => {
    expect(redactUrl('postgres://app:my secret@db:notaport/kstream')).toBe('postgres://app:***@db:notaport/kstream');
    expect(redactUrl('postgres://app@db/kstream')).toBe('postgres://app@db/kstream');
  });
});

describe('redactValue', () => {
  it('redacts strings inside nested fields and errors, and returns untouched values as they are', () => {
    const clean = { topic: 'orders', nested: { list: [1, 'x'] } };
    expect(redactValue(clean)).toBe(clean);
    expect(redactValue({ url: 'postgres://u:pw@h/db', nested: { list: ['postgres://u:pw@h/db'] }, error: new Error('to postgres://u:pw@h/db') })).toEqual({
      url: 'postgres://u:***@h/db',
      nested: { list: ['postgres://u:***@h/db'] },
      error: { name: 'Error', message: 'to postgres://u:***@h/db' },
    });
  });
});

describe('the logger', () => {
  it.each(['json', 'pretty'] as const)('never writes a password, in the message or in a field (%s)', async (format) => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const logger = createLogger({ format, stream }).child('db', { url: 'postgres://app:s3cret@db/kstream' });
    logger.error('cannot reach postgres://app:s3cret@db/kstream', { error: 'connect to postgres://app:s3cret@db/kstream failed', cause: new Error('at postgres://app:s3cret@db') });
    await new Promise((resolve) => setImmediate(resolve));
    const text = chunks.join('');
    expect(text).toContain('postgres://app:***@db/kstream');
    expect(text).not.toContain('s3cret');
  });
});

describe('config errors', () => {
  it('do not echo the password of a malformed DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://app:s3cret@db:port/kstream' })).toThrow('invalid setting DATABASE_URL: expected a postgres:// or postgresql:// URL, got "postgres://app:***@db:port/kstream"');
  });

  it('print one line without the password when a command is given one', () => {
    for (const args of [['app/db-cli.ts', 'status'], ['app/cli.ts', 'status']]) {
      const result = spawnSync(process.execPath, args, { env: { ...process.env, DATABASE_URL: 'postgresql://app:s3cret pass@db:nope/kstream' }, encoding: 'utf8' });
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr.trim().split('\n')).toEqual(['error: invalid setting DATABASE_URL: expected a postgres:// or postgresql:// URL, got "postgresql://app:***@db:nope/kstream"']);
    }
  });
});
