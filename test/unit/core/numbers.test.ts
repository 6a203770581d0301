import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../core/errors.ts';
import { durationFlag, formatDuration, integerFlag, parseDecimal, parseDuration, parseInteger } from '../../../core/numbers.ts';

describe('parseInteger', () => {
  it.each([
    ['42', 42],
    [' 7 ', 7],
    ['-1', -1],
    ['1_000_000', 1_000_000],
  ])('reads %j as %d', (raw, value) => {
    expect(parseInteger(raw, { min: -10, max: 10_000_000 })).toBe(value);
  });

  it.each(['', '1.5', '1e3', '0x10', '12abc', '_1', '1__0', '-'])('rejects %j', (raw) => {
    expect(parseInteger(raw, { min: -10, max: 10_000_000 })).toBeUndefined();
  });

  it('rejects values outside the range and beyond safe integers', () => {
    expect(parseInteger('11', { min: 0, max: 10 })).toBeUndefined();
    expect(parseInteger('-1', { min: 0, max: 10 })).toBeUndefined();
    expect(parseInteger('9007199254740993', { min: 0, max: Number.MAX_SAFE_INTEGER })).toBeUndefined();
  });
});

describe('parseDecimal', () => {
  it('reads decimals within the range, `above` being exclusive', () => {
    expect(parseDecimal('2.5', { min: 0, max: 10 })).toBe(2.5);
    expect(parseDecimal('0', { min: 0, max: 10 })).toBe(0);
    expect(parseDecimal('0', { above: 0, max: 10 })).toBeUndefined();
    expect(parseDecimal('10.5', { min: 0, max: 10 })).toBeUndefined();
    expect(parseDecimal('1e3', { min: 0, max: 10_000 })).toBeUndefined();
  });
});

describe('flag readers', () => {
  const errorOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('fall back when absent and name the flag and the range when wrong', () => {
    expect(integerFlag({}, 'rate', { min: 1, max: 100, fallback: 5 })).toBe(5);
    expect(integerFlag({}, 'rate', { min: 1, max: 100 })).toBeUndefined();
    expect(integerFlag({ rate: '7' }, 'rate', { min: 1, max: 100 })).toBe(7);
    const error = errorOf(() => integerFlag({ rate: '0' }, 'rate', { min: 1, max: 100 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('invalid setting --rate: expected an integer from 1 to 100, got "0"');
    expect(errorOf(() => integerFlag({ orders: 'x' }, 'orders', { min: 1, max: Number.MAX_SAFE_INTEGER })).message).toContain('expected a positive integer');
    expect(durationFlag({ outage: '2m' }, 'outage', { min: 1000, max: 600_000 })).toBe(120_000);
    expect(errorOf(() => durationFlag({ outage: '20m' }, 'outage', { min: 1000, max: 600_000 })).message).toContain('--outage: expected a duration from 1.0s to 10m');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['90', 90_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    [' 2M ', 120_000],
  ])('reads %j as %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(['', 's', '5 m', '-3s', '5x', '1m30', 'five minutes'])('rejects %j', (raw) => {
    expect(parseDuration(raw)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [450, '450ms'],
    [4_200, '4.2s'],
    [30_000, '30s'],
    [75_000, '1m15s'],
    [119_700, '2m'],
    [300_000, '5m'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
