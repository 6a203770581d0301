/** How the console page writes numbers and times (app/console/page/format.js). */
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error: a plain browser module of the page, without type declarations.
import { formatAgo, formatBytes, formatClock, formatCount, formatRate, formatTime, hasLag } from '../../../app/console/page/format.js';

describe('the page formats', () => {
  it('writes counts with thousands separators and keeps every digit of a 64-bit offset', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount('9223372036854775807')).toBe('9,223,372,036,854,775,807');
    expect(formatCount('0')).toBe('0');
    expect(formatCount(null)).toBe('–');
    expect(formatCount(undefined)).toBe('–');
  });

  it('writes rates with one decimal, bytes in B/KiB/MiB', () => {
    expect(formatRate(1234.56)).toBe('1,234.6/s');
    expect(formatRate(0)).toBe('0.0/s');
    expect(formatBytes(33)).toBe('33 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('writes times relative to the snapshot, and in UTC to the second', () => {
    const now = '2026-12-03T13:00:00.000Z';
    expect(formatAgo('2026-12-03T12:59:59.500Z', now)).toBe('just now');
    expect(formatAgo('2026-12-03T12:59:48.000Z', now)).toBe('12 s ago');
    expect(formatAgo('2026-12-03T12:55:00.000Z', now)).toBe('5 min ago');
    expect(formatAgo('2026-12-03T10:00:00.000Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-11-01T10:00:00.000Z', now)).toBe('2026-11-01 10:00:00 UTC');
    expect(formatAgo(null, now)).toBe('–');
    expect(formatTime('2026-12-03T13:21:05.123Z')).toBe('2026-12-03 13:21:05 UTC');
    expect(formatClock('2026-12-03T13:21:05.123Z')).toBe('13:21:05');
    expect(formatClock(null)).toBe('–');
  });

  it('tells a lag above zero, also beyond 2^53', () => {
    expect(hasLag('0')).toBe(false);
    expect(hasLag('1')).toBe(true);
    expect(hasLag('9007199254740993')).toBe(true);
  });
});
