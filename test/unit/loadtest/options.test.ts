import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { parseDuration } from '../../../core/numbers.ts';
import { parseLoadtestOptions } from '../../../loadtest/options.ts';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadtest flags', () => {
  it('parses durations with units, bare seconds meaning seconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration('-1s')).toBeUndefined();
    expect(parseDuration('10 minutes')).toBeUndefined();
    // A zero-length run is no run: the flag refuses what the parser reads as 0 ms.
    expect(configErrorOf(() => parseLoadtestOptions({ duration: '0s' })).setting).toBe('--duration');
  });

  it('defaults to a 30 s run of source-1 at 1000/s', () => {
    expect(parseLoadtestOptions({})).toMatchObject({ rate: 1_000, durationMs: 30_000, count: undefined, sourceId: 'source-1', skew: 1, seed: 1, maxBatch: 5_000 });
  });

  it('takes a count instead of a duration, and max as a rate with 5 s steps', () => {
    expect(parseLoadtestOptions({ rate: '20000', count: '1000', duration: '2m' })).toMatchObject({ rate: 20_000, count: 1_000, durationMs: undefined });
    expect(parseLoadtestOptions({ rate: 'max' })).toMatchObject({ rate: 'max', durationMs: 5_000 });
    expect(parseLoadtestOptions({ rate: 'max', duration: '10s' })).toMatchObject({ durationMs: 10_000 });
  });

  it.each([
    [{ rate: '-5' }, '--rate'],
    [{ rate: '0' }, '--rate'],
    [{ rate: 'fast' }, '--rate'],
    [{ duration: '10 parsecs' }, '--duration'],
    [{ duration: '0s' }, '--duration'],
    [{ count: '0' }, '--count'],
    [{ count: '1.5' }, '--count'],
    [{ products: '0' }, '--products'],
    [{ products: '-3' }, '--products'],
    [{ skew: '-1' }, '--skew'],
    [{ skew: 'zipf' }, '--skew'],
    [{ seed: 'abc' }, '--seed'],
    [{ 'source-id': 'has space' }, '--source-id'],
    [{ 'max-batch': '0' }, '--max-batch'],
    [{ rate: 'max', count: '10' }, '--count'],
  ])('refuses %j with a ConfigError naming %s', (flags, name) => {
    const error = configErrorOf(() => parseLoadtestOptions(flags));
    expect(error.setting).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('leaves --client to the shared configuration, which refuses an unknown client by flag name', () => {
    expect(loadConfig({}, { client: 'kafkajs' }).kafkaClient).toBe('kafkajs');
    expect(configErrorOf(() => loadConfig({}, { client: 'librdkafka' })).setting).toBe('--client');
  });
});
