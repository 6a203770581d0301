/** translateKafkajsError on the errors kafkajs throws, judged by kafkajs's own `retriable` flags. */
import { describe, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import { StreamError } from '../../../core/errors.ts';
import { translateKafkajsError } from '../../../kafka/kafkajs/errors.ts';

// Not all of them are typed (KafkaJSCreateTopicError is not); their constructors are what kafkajs throws.
type KafkajsErrorClass = new (...args: unknown[]) => Error;
type KafkajsErrorName =
  | 'KafkaJSAggregateError'
  | 'KafkaJSConnectionError'
  | 'KafkaJSCreateTopicError'
  | 'KafkaJSNonRetriableError'
  | 'KafkaJSNumberOfRetriesExceeded'
  | 'KafkaJSProtocolError'
  | 'KafkaJSTimeout';
const { KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSCreateTopicError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSTimeout } =
  kafkajs as unknown as Record<KafkajsErrorName, KafkajsErrorClass>;

const retriable = (error: unknown) => translateKafkajsError(error).retriable;
const protocol = (type: string, isRetriable: boolean) => new KafkaJSProtocolError({ message: type, type, retriable: isRetriable, code: 0 });

describe('translateKafkajsError', () => {
  it('follows kafkajs: a connection error is retriable, a refused request is not', () => {
    const refused = protocol('INVALID_CONFIG', false);
    expect(retriable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'))).toBe(true);
    expect(retriable(protocol('NOT_LEADER_OR_FOLLOWER', true))).toBe(true);
    expect(retriable(refused)).toBe(false);
    expect(retriable(new KafkaJSNonRetriableError(refused, { cause: refused }))).toBe(false);
  });

  it('retries what kafkajs itself stopped retrying or stopped waiting for (the failure was the moment)', () => {
    const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const exhausted = new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 300, cause: connection });
    expect((exhausted as Error & { retriable: boolean }).retriable).toBe(false);
    expect(retriable(exhausted)).toBe(true);
    expect(retriable(new KafkaJSTimeout('Timeout while waiting for leaders'))).toBe(true);
  });

  it('judges a topic creation aggregate by every topic it refused', () => {
    const invalidConfig = new KafkaJSCreateTopicError({ message: 'Configuration is invalid', type: 'INVALID_CONFIG', retriable: false, code: 40 }, 't');
    const leaderless = new KafkaJSCreateTopicError({ message: 'no leader', type: 'LEADER_NOT_AVAILABLE', retriable: true, code: 5 }, 'u');
    expect(retriable(new KafkaJSAggregateError('Topic creation errors', [leaderless]))).toBe(true);
    expect(retriable(new KafkaJSAggregateError('Topic creation errors', [leaderless, invalidConfig]))).toBe(false);
    expect(retriable(new KafkaJSAggregateError('Topic creation errors', []))).toBe(false);
  });

  it('keeps kafkajs error as the cause, the context given, and the first nested error in the message', () => {
    const invalidConfig = new KafkaJSCreateTopicError({ message: 'Configuration is invalid', type: 'INVALID_CONFIG', retriable: false, code: 40 }, 't');
    const aggregate = new KafkaJSAggregateError('Topic creation errors', [invalidConfig]);
    const translated = translateKafkajsError(aggregate, { topic: 't' });
    expect(translated).toBeInstanceOf(StreamError);
    expect(translated).toMatchObject({ code: 'REQUEST_REFUSED', retriable: false, cause: aggregate, context: { topic: 't' }, message: 'Kafka: Topic creation errors (Configuration is invalid)' });
    expect(translateKafkajsError(new KafkaJSConnectionError('Connection error'))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
  });

  it('retries a socket error kafkajs passed through, and never a programmer error', () => {
    expect(retriable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(retriable(new TypeError('bug'))).toBe(false);
  });

  it('passes a StreamError through unchanged', () => {
    const own = new StreamError('ILLEGAL_STATE', 'started twice');
    expect(translateKafkajsError(own)).toBe(own);
  });
});
