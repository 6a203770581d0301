import { describe, expect, it } from '@jest/globals';
import { formatMs, formatProgressLine, formatSummaryTable } from '../../../loadtest/progress.ts';

describe('progress line', () => {
  it('shows target vs achieved rate, p50/p99, errors and backlog', () => {
    const line = formatProgressLine({ elapsedMs: 12_400, targetRate: 20_000, achievedRate: 19_873.4, p50Ms: 4.12, p99Ms: 1_234, errors: 3, backlog: 1_234 });
    expect(line).toBe('[   12s]  target  20,000/s  achieved  19,873/s  p50   4.1 ms  p99   1.23 s  errors 3  backlog 1,234');
  });

  it('keeps its width for a given magnitude, so rewriting it with \\r leaves no debris', () => {
    const a = formatProgressLine({ elapsedMs: 1_000, targetRate: 5_000, achievedRate: 4_999, p50Ms: 1, p99Ms: 2, errors: 0, backlog: 0 });
    const b = formatProgressLine({ elapsedMs: 9_000, targetRate: 5_000, achievedRate: 12, p50Ms: 99.9, p99Ms: 999, errors: 0, backlog: 0 });
    expect(a.length).toBe(b.length);
  });

  it('prints minutes past a minute', () => {
    expect(formatProgressLine({ elapsedMs: 125_000, targetRate: 1, achievedRate: 1, p50Ms: 0, p99Ms: 0, errors: 0, backlog: 0 })).toMatch(/^\[ 2m05s\]/);
  });

  it('formats milliseconds by magnitude', () => {
    expect(formatMs(0.25)).toBe('0.3 ms');
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(2_500)).toBe('2.50 s');
  });
});

describe('summary table', () => {
  it('lists every figure of the report in aligned columns', () => {
    const table = formatSummaryTable({
      client: 'kafkajs',
      target: 5_000,
      achieved: 4_990,
      count: 150_000,
      linesPerOrder: 2.4,
      lines: '1:30,2:30,3:20,4:10,5:10',
      errors: 0,
      durationMs: 30_100,
      latency: { p50: 2, p90: 3, p99: 9.5, p999: 20, max: 40, min: 1, count: 150_000 },
      cpuUserMs: 12_000,
      cpuSystemMs: 2_000,
      rssPeakBytes: 200 * 1024 * 1024,
      recovered: 7,
    });
    expect(table).toContain(' achieved rate         | 4,990/s');
    expect(table).toContain(' lines per order       | 2.40 (--lines 1:30,2:30,3:20,4:10,5:10)');
    expect(table).toContain(' latency p99           | 9.5 ms');
    expect(table).toContain(' re-published at start | 7');
    expect(table).toContain(' rss peak              | 200 MiB');
    const bars = table.split('\n').filter((line) => line.includes('|')).map((line) => line.indexOf('|'));
    expect(new Set(bars).size).toBe(1);
  });
});
