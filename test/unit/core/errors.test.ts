import { describe, expect, it } from '@jest/globals';
import { ConfigError, FencedError, isRetriable, ServiceUnavailableError, StaleStateError, StreamError, UsageError } from '../../../core/errors.ts';

describe('isRetriable', () => {
  it('goes by what a StreamError says', () => {
    expect(isRetriable(new StreamError('TRANSACTION_CONFLICT', 'deadlock', { retriable: true }))).toBe(true);
    expect(isRetriable(new StreamError('REQUEST_REFUSED', 'invalid config'))).toBe(false);
  });

  it('never retries a programmer error, nor a driver error nobody translated (core knows no driver)', () => {
    expect(isRetriable(new TypeError('bug'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('Connection closed'), { canRetry: true }))).toBe(false);
    expect(isRetriable(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(false);
    expect(isRetriable(new AggregateError([new ServiceUnavailableError('Kafka', 'down')]))).toBe(false);
  });
});

describe('error codes mean one thing each', () => {
  it('tells a bad setting from a request that cannot be done and from a misused object', () => {
    expect(new ConfigError('--rate', 'a positive integer', 'x')).toMatchObject({ code: 'CONFIG_INVALID', setting: '--rate', retriable: false });
    expect(new UsageError('no migration named "x"')).toMatchObject({ code: 'USAGE_INVALID', retriable: false });
    expect(new FencedError('orders', 3, 'epoch moved')).toMatchObject({ code: 'FENCED', context: { topic: 'orders', partition: 3 } });
    expect(new StaleStateError('counts', ['a'], 'changed')).toMatchObject({ code: 'STALE_STATE', retriable: true, context: { store: 'counts', keys: ['a'] } });
  });

  it('keeps a lock held by another process apart from an unreachable service, both exiting 1', () => {
    expect(new ServiceUnavailableError('PostgreSQL', 'connection refused')).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
    expect(new ServiceUnavailableError('order source "s"', 'held', undefined, 'LOCK_HELD')).toMatchObject({ code: 'LOCK_HELD' });
  });
});
