/**
 * isRetriable on the errors @platformatic/kafka really throws: after its own retries it gives up
 * with MultipleErrors (an AggregateError) holding every attempt's error, and it reports a
 * response's per-partition errors as a ResponseError (a MultipleErrors) of ProtocolErrors.
 */
import { describe, expect, it } from '@jest/globals';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { ConfigError, FencedError, isRetriable, ServiceUnavailableError, StaleStateError, UsageError } from '../../../core/errors.ts';

const PRODUCE_API = 0;

const gaveUp = (...errors: Error[]) => new MultipleErrors(`produce failed ${errors.length} times.`, errors);
const response = (...codes: number[]) =>
  new ResponseError(PRODUCE_API, 11, Object.fromEntries(codes.map((code, index) => [`/responses/0/partition_responses/${index}`, [code, null]])), undefined);

const NOT_LEADER_OR_FOLLOWER = 6;
const MESSAGE_TOO_LARGE = 10;
const INVALID_RECORD = 87;

describe('isRetriable on @platformatic/kafka aggregate errors', () => {
  it('the library marks its nested errors as this test assumes', () => {
    expect(new NetworkError('Connection closed').canRetry).toBe(true);
    expect(new ProtocolError(NOT_LEADER_OR_FOLLOWER).canRetry).toBe(true);
    expect(new ProtocolError(MESSAGE_TOO_LARGE).canRetry).toBe(false);
    expect(gaveUp(new NetworkError('x'))).toBeInstanceOf(AggregateError);
  });

  it('is retriable when every nested error is: network errors after the library gave up', () => {
    expect(isRetriable(gaveUp(new NetworkError('Connection closed'), new NetworkError('Connection refused')))).toBe(true);
    expect(isRetriable(gaveUp(new TimeoutError('Request timed out', { canRetry: true })))).toBe(true);
  });

  it('looks into nested aggregates: a response whose partitions all lost their leader', () => {
    expect(isRetriable(response(NOT_LEADER_OR_FOLLOWER, NOT_LEADER_OR_FOLLOWER))).toBe(true);
    expect(isRetriable(gaveUp(new NetworkError('Connection closed'), response(NOT_LEADER_OR_FOLLOWER)))).toBe(true);
  });

  it('is not retriable when any nested error is not, however deep', () => {
    expect(isRetriable(response(MESSAGE_TOO_LARGE))).toBe(false);
    expect(isRetriable(gaveUp(response(NOT_LEADER_OR_FOLLOWER, INVALID_RECORD)))).toBe(false);
    expect(isRetriable(gaveUp(new NetworkError('Connection closed'), new UserError('Client closed while retrying produce.')))).toBe(false);
  });

  it('is not retriable when the aggregate holds nothing to judge by', () => {
    expect(isRetriable(gaveUp())).toBe(false);
    expect(isRetriable(new AggregateError([], 'empty'))).toBe(false);
  });

  it('judges a plain AggregateError by its errors too', () => {
    expect(isRetriable(new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' })]))).toBe(true);
    expect(isRetriable(new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' }), new TypeError('bug')]))).toBe(false);
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
