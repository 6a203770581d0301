import { describe, expect, it } from '@jest/globals';
import { formatDuration, parseDuration } from '../../../verify/duration.ts';

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
