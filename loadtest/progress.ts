/** Text the load generator shows a person: the live progress line and the final table. Pure. */
import type { LatencyPercentiles } from '../app/order-source/latency-recorder.ts';

export interface ProgressSample {
  elapsedMs: number;
  targetRate: number;
  /** Orders acknowledged per second over the last interval. */
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Stored but not yet published. */
  backlog: number;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatMs(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/** One progress line, fixed-width enough to be rewritten in place with `\r`. */
export function formatProgressLine(sample: ProgressSample): string {
  return [
    `[${formatElapsed(sample.elapsedMs).padStart(6)}]`,
    `target ${formatCount(sample.targetRate).padStart(7)}/s`,
    `achieved ${formatCount(sample.achievedRate).padStart(7)}/s`,
    `p50 ${formatMs(sample.p50Ms).padStart(8)}`,
    `p99 ${formatMs(sample.p99Ms).padStart(8)}`,
    `errors ${formatCount(sample.errors)}`,
    `backlog ${formatCount(sample.backlog)}`,
  ].join('  ');
}

export interface SummaryInput {
  client: string;
  target: number | 'max';
  achieved: number;
  count: number;
  /** Mean lines per published order, and the spec they were drawn from. */
  linesPerOrder: number;
  lines: string;
  errors: number;
  durationMs: number;
  latency: LatencyPercentiles;
  cpuUserMs: number;
  cpuSystemMs: number;
  rssPeakBytes: number;
  recovered: number;
}

/** The end-of-run table: two aligned columns. */
export function formatSummaryTable(input: SummaryInput): string {
  const rows: Array<[string, string]> = [
    ['client', input.client],
    ['target rate', input.target === 'max' ? 'max (search)' : `${formatCount(input.target)}/s`],
    ['achieved rate', `${formatCount(input.achieved)}/s`],
    ['lines per order', `${input.linesPerOrder.toFixed(2)} (--lines ${input.lines})`],
    ['orders published', formatCount(input.count)],
    ['re-published at start', formatCount(input.recovered)],
    ['errors', formatCount(input.errors)],
    ['duration', `${(input.durationMs / 1000).toFixed(1)} s`],
    ['latency p50', formatMs(input.latency.p50)],
    ['latency p90', formatMs(input.latency.p90)],
    ['latency p99', formatMs(input.latency.p99)],
    ['latency p99.9', formatMs(input.latency.p999)],
    ['latency max', formatMs(input.latency.max)],
    ['cpu user/system', `${(input.cpuUserMs / 1000).toFixed(1)} s / ${(input.cpuSystemMs / 1000).toFixed(1)} s`],
    ['rss peak', `${(input.rssPeakBytes / 1024 / 1024).toFixed(0)} MiB`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const rule = `${'-'.repeat(width + 2)}+${'-'.repeat(valueWidth + 2)}`;
  return [rule, ...rows.map(([name, value]) => ` ${name.padEnd(width)} | ${value}`), rule].join('\n');
}
