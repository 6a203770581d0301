/**
 * translatePlatformaticError on the errors @platformatic/kafka really throws: after its own
 * retries it gives up with MultipleErrors (an AggregateError) holding every attempt's error, and
 * it reports a response's per-partition errors as a ResponseError (a MultipleErrors) of ProtocolErrors.
 */
import { describe, expect, it } from '@jest/globals';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { StreamError } from '../../../core/errors.ts';
import { translatePlatformaticError } from '../../../kafka/platformatic/errors.ts';

const PRODUCE_API = 0;

const gaveUp = (...errors: Error[]) => new MultipleErrors(`produce failed ${errors.length} times.`, errors);
const response = (...codes: number[]) =>
  new ResponseError(PRODUCE_API, 11, Object.fromEntries(codes.map((code, index) => [`/responses/0/partition_responses/${index}`, [code, null]])), undefined);
const retriable = (error: unknown) => translatePlatformaticError(error).retriable;

const NOT_LEADER_OR_FOLLOWER = 6;
const MESSAGE_TOO_LARGE = 10;
const INVALID_RECORD = 87;

describe('translatePlatformaticError on @platformatic/kafka aggregate errors', () => {
  it('the library marks its nested errors as this test assumes', () => {
    expect(new NetworkError('Connection closed').canRetry).toBe(true);
    expect(new ProtocolError(NOT_LEADER_OR_FOLLOWER).canRetry).toBe(true);
    expect(new ProtocolError(MESSAGE_TOO_LARGE).canRetry).toBe(false);
    expect(gaveUp(new NetworkError('x'))).toBeInstanceOf(AggregateError);
  });

  it('is retriable when every nested error is: network errors after the library gave up', () => {
    expect(retriable(gaveUp(new NetworkError('Connection closed'), new NetworkError('Connection refused')))).toBe(true);
    expect(retriable(gaveUp(new TimeoutError('Request timed out', { canRetry: true })))).toBe(true);
  });

  it('looks into nested aggregates: a response whose partitions all lost their leader', () => {
    expect(retriable(response(NOT_LEADER_OR_FOLLOWER, NOT_LEADER_OR_FOLLOWER))).toBe(true);
    expect(retriable(gaveUp(new NetworkError('Connection closed'), response(NOT_LEADER_OR_FOLLOWER)))).toBe(true);
  });

  it('is not retriable when any nested error is not, however deep', () => {
    expect(retriable(response(MESSAGE_TOO_LARGE))).toBe(false);
    expect(retriable(gaveUp(response(NOT_LEADER_OR_FOLLOWER, INVALID_RECORD)))).toBe(false);
    expect(retriable(gaveUp(new NetworkError('Connection closed'), new UserError('Client closed while retrying produce.')))).toBe(false);
  });

  it('is not retriable when the aggregate holds nothing to judge by', () => {
    expect(retriable(gaveUp())).toBe(false);
    expect(retriable(new AggregateError([], 'empty'))).toBe(false);
  });

  it('judges a plain AggregateError by its errors too', () => {
    expect(retriable(new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' })]))).toBe(true);
    expect(retriable(new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' }), new TypeError('bug')]))).toBe(false);
  });
});

describe('translatePlatformaticError', () => {
  it('keeps the library error as the cause, the context given, and the root cause in the message', () => {
    const refused = new ProtocolError(MESSAGE_TOO_LARGE);
    const translated = translatePlatformaticError(gaveUp(refused), { topic: 'orders', partition: 2 });
    expect(translated).toBeInstanceOf(StreamError);
    expect(translated).toMatchObject({ code: 'REQUEST_REFUSED', retriable: false, context: { topic: 'orders', partition: 2 } });
    expect((translated.cause as MultipleErrors).errors).toEqual([refused]);
    expect(translated.message).toBe(`Kafka: produce failed 1 times. (${refused.message})`);
    expect(translatePlatformaticError(new NetworkError('Connection closed'))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true, message: 'Kafka: Connection closed' });
  });

  it('passes a StreamError through unchanged', () => {
    const own = new StreamError('ILLEGAL_STATE', 'started twice');
    expect(translatePlatformaticError(own, { topic: 'x' })).toBe(own);
  });
});
