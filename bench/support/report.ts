/** The processor bench's recorded result: one JSON file and a Markdown summary per run date. */
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BaselineResult } from '../naive-baseline.ts';
import type { CatchUpResult, LinesShape } from './catch-up.ts';
import type { LatencyResult } from './latency.ts';

export interface ProcessorBenchSettings {
  orders: number;
  products: number;
  partitions: number;
  batchMaxRecords: number;
  commitIntervalMs: number;
  maxInflightPerPartition: number;
  maxInflightTotal: number;
  poolMax: number;
}

/** One backlog of the catch-up runs: every shape has the same orders over the same products. */
export interface BacklogShape {
  lines: LinesShape;
  orders: number;
  totalLines: number;
  buildMs: number;
}

export interface ProcessorBenchResult {
  date: string;
  command: string;
  machine: Record<string, string | number>;
  settings: ProcessorBenchSettings;
  backlogs: BacklogShape[];
  /** Every client on every backlog, backlog by backlog. */
  pipeline: CatchUpResult[];
  baseline?: BaselineResult & { client: string; loadAverage1m: number };
  latency?: LatencyResult & { loadAverage1m: number };
  targets: Record<string, { target: string; reached: boolean | null }>;
}

export interface ProcessorBenchSummary {
  pipeline: Record<string, number>;
  baseline: number | null;
  ratio: number | null;
  e2eLatencyMs: { p50: number; p99: number } | null;
}

export function machineInfo(extra: Record<string, string>): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    note: 'Kafka broker, PostgreSQL and the bench share this machine',
    ...extra,
  };
}

export function kafkaVersion(libsDir: string): string {
  try {
    const jar = readdirSync(libsDir).find((name) => /^kafka_[\d.]+-[\d.]+\.jar$/.test(name));
    return jar?.replace(/^kafka_[\d.]+-/, '').replace(/\.jar$/, '') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Single-line catch-up of 1M orders on one replica, per client, and the CPU it may cost: the
 * processor, its PostgreSQL backends and the broker together, per order (the bench's split).
 */
export const SINGLE_LINE_TARGETS: Readonly<Record<string, number>> = { platformatic: 100_000, kafkajs: 85_000 };
export const SINGLE_LINE_MAX_CPU_MICROS = 18;
const MULTI_LINE_MEAN = 3;
const MULTI_LINE_TARGET = 30_000;
const LATENCY_RATE = 10_000;
const LATENCY_P99_MS = 100;

/** CPU per order of the processor, its PostgreSQL and the broker (what the target bounds). */
export function pipelineCpuMicros(run: Pick<CatchUpResult, 'cpuMicrosPerOrder'>): number {
  const cpu = run.cpuMicrosPerOrder;
  return (cpu.bench ?? 0) + (cpu['postgres-bench'] ?? 0) + (cpu.kafka ?? 0);
}

/** A run's row name: its client and its backlog's lines. */
export function runLabel(run: Pick<CatchUpResult, 'client' | 'lines'>): string {
  return `${run.client} --lines ${run.lines.spec}`;
}

const isSingleLine = (run: CatchUpResult) => run.lines.mean === 1;

/** The headline numbers; `ratio` compares the default client's single-line run (platformatic, else the first measured) with the baseline, which is single-line. */
export function summarize(result: ProcessorBenchResult): ProcessorBenchSummary {
  const pipeline = Object.fromEntries(result.pipeline.map((run) => [runLabel(run), run.ordersPerSecond]));
  const single = result.pipeline.filter(isSingleLine);
  const headline = single.find((run) => run.client === 'platformatic') ?? single[0];
  const baseline = result.baseline?.ordersPerSecond ?? null;
  return {
    pipeline,
    baseline,
    ratio: headline && baseline ? Math.round((headline.ordersPerSecond / baseline) * 10) / 10 : null,
    e2eLatencyMs: result.latency ? { p50: result.latency.p50, p99: result.latency.p99 } : null,
  };
}

export function evaluateTargets(result: Omit<ProcessorBenchResult, 'targets'>): ProcessorBenchResult['targets'] {
  const summary = summarize({ ...result, targets: {} });
  const single = result.pipeline.filter((run) => isSingleLine(run) && SINGLE_LINE_TARGETS[run.client] !== undefined);
  const multi = result.pipeline.filter((run) => run.lines.mean === MULTI_LINE_MEAN);
  const latency = result.latency;
  return {
    singleLine: {
      target: `single-line catch-up on one replica: ${Object.entries(SINGLE_LINE_TARGETS)
        .map(([client, rate]) => `${client} >= ${rate.toLocaleString('en')}`)
        .join(', ')} orders/s, with processor + PostgreSQL + broker CPU <= ${SINGLE_LINE_MAX_CPU_MICROS} µs per order`,
      reached: single.length ? single.every((run) => run.ordersPerSecond >= SINGLE_LINE_TARGETS[run.client]! && pipelineCpuMicros(run) <= SINGLE_LINE_MAX_CPU_MICROS) : null,
    },
    multiLine: {
      target: `>= ${MULTI_LINE_TARGET.toLocaleString('en')} orders/s at a mean of ${MULTI_LINE_MEAN} lines per order, one replica`,
      reached: multi.length ? Math.min(...multi.map((run) => run.ordersPerSecond)) >= MULTI_LINE_TARGET : null,
    },
    ratio: { target: '>= 20x the naive baseline', reached: summary.ratio === null ? null : summary.ratio >= 20 },
    latency: {
      target: `p99 <= ${LATENCY_P99_MS} ms from order stored to its outcome event published, at ${LATENCY_RATE.toLocaleString('en')} orders/s, every order of the window measured`,
      reached: latency && latency.targetRate >= LATENCY_RATE ? latency.p99 <= LATENCY_P99_MS && latency.unmatchedOrders === 0 : null,
    },
  };
}

export function writeResults(dir: string, result: ProcessorBenchResult): { json: string; markdown: string } {
  const json = join(dir, `processor-${result.date}.json`);
  const markdown = join(dir, `processor-${result.date}.md`);
  writeFileSync(json, `${JSON.stringify(result, bigintSafe, 2)}\n`);
  writeFileSync(markdown, formatMarkdown(result));
  return { json, markdown };
}

export function formatMarkdown(result: ProcessorBenchResult): string {
  const summary = summarize(result);
  const lines = [
    `# Processor benchmark — ${result.date}`,
    '',
    `Command: \`${result.command}\``,
    '',
    `Machine: ${Object.entries(result.machine).map(([key, value]) => `${key} ${value}`).join('; ')}.`,
    '',
    `Settings: ${Object.entries(result.settings).map(([key, value]) => `${key}=${value}`).join(', ')}.`,
    '',
    '## Catch-up throughput of the order flow (backlog already on the topic, one replica)',
    '',
    `Backlogs: ${result.backlogs.map((backlog) => `--lines ${backlog.lines.spec}: ${backlog.orders} orders, ${backlog.totalLines} lines (built in ${(backlog.buildMs / 1000).toFixed(1)} s)`).join('; ')}.`,
    '',
    '| client | lines | orders | wall time | orders/s (wall) | lines/s | orders/s (first to last commit) | startup | tail after the orders topic | batches | mean batch | CPU µs/order: node / its postgres / kafka / others | CPU-bound ceiling | outbox left | load 1m |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.pipeline.map(
      (run) =>
        `| ${run.client} | ${run.lines.spec} (${run.linesPerOrder}/order) | ${run.orders} | ${(run.elapsedMs / 1000).toFixed(1)} s | **${run.ordersPerSecond}** | ${run.linesPerSecond} | ${run.steadyOrdersPerSecond} | ${run.startupMs} ms | ${run.tailMs} ms | ${run.batches} | ${run.meanBatchRecords} | ${costs(run)} | ${run.cpuBoundCeilingOrdersPerSecond}/s | ${run.outboxBacklogAtEnd} | ${run.loadAverage1m} |`,
    ),
    '',
    'Processor and outbox relay run in the bench process, as `topology run` runs them. Wall time runs from the startProcessor call (group join included) until the order flow is caught up: no order pending or reserving, and every sub-topology\'s offsets in `stream_offsets` at its topics\' high watermarks (internal topics included, as `topology status` computes lag); the end is the last commit before that was seen. "Outbox left": outcome events and InventoryUpdated rows the relay had still to publish then.',
    'CPU µs/order come from /proc (this process, the PostgreSQL backends of the bench database, the broker, everything else); the ceiling is min(1e6 / node µs, cores × 1e6 / (node + postgres + kafka µs)): what the measured CPU costs would allow with the machine to ourselves.',
    '',
  ];
  if (result.baseline) {
    lines.push(
      '## Naive baseline (one record per transaction, as the original Elixir project)',
      '',
      `${result.baseline.orders} orders in ${(result.baseline.elapsedMs / 1000).toFixed(1)} s over ${result.baseline.concurrency} partitions in parallel (${result.baseline.client}, load average ${result.baseline.loadAverage1m}): **${result.baseline.ordersPerSecond} orders/s**. Ratio (default client / baseline): **${summary.ratio}x**. CPU µs/order: node ${result.baseline.cpuMicrosPerOrder.bench ?? '?'}, its postgres ${result.baseline.cpuMicrosPerOrder['postgres-bench'] ?? '?'}.`,
      '',
    );
  }
  if (result.latency) {
    const latency = result.latency;
    lines.push(
      `## End-to-end latency at ${latency.targetRate} orders/s (--lines ${latency.lines}, ${latency.linesPerOrder} lines per order)`,
      '',
      `Definition: ${latency.definition}.`,
      '',
      `Layout: ${latency.layout === 'all' ? 'one process (topology run --role all)' : 'one process per role'}; COMMIT_INTERVAL_MS ${latency.commitIntervalMs}; load average at the end ${latency.loadAverage1m}. ${latency.measuredOrders} orders measured (${latency.confirmed} confirmed, ${latency.rejected} rejected; ${latency.unmatchedOrders} of the window without a published outcome; achieved ${latency.achievedRate} orders/s): p50 **${latency.p50} ms**, p90 ${latency.p90} ms, p99 **${latency.p99} ms**, p99.9 ${latency.p999} ms, max ${latency.max} ms. Of that, created -> decided (start of the transaction that decided it): p50 ${latency.toDecidedMs.p50} ms, p99 ${latency.toDecidedMs.p99} ms; that transaction's start -> published (relay): p50 ${latency.relayMs.p50} ms, p99 ${latency.relayMs.p99} ms. After stop: ${latency.undecidedAfterStop} undecided orders, ${latency.unpublishedAfterStop} unpublished outbox records.`,
      '',
    );
  }
  lines.push('## Targets', '', ...Object.entries(result.targets).map(([name, t]) => `- ${name}: ${t.target} — ${t.reached === null ? 'not measured' : t.reached ? 'reached' : 'NOT reached'}`), '');
  const profiled = result.pipeline.find((run) => run.hotFunctions);
  if (profiled?.hotFunctions) {
    lines.push(`## CPU profile of the catch-up (${profiled.client}, self time)`, '', '| self % | function | location |', '|---|---|---|');
    for (const hot of profiled.hotFunctions) lines.push(`| ${hot.selfPercent} | ${hot.function} | ${hot.location} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function costs(run: CatchUpResult): string {
  const micros = run.cpuMicrosPerOrder;
  const others = (micros.other ?? 0) + (micros['postgres-other'] ?? 0);
  return `${micros.bench ?? '?'} / ${micros['postgres-bench'] ?? '?'} / ${micros.kafka ?? '?'} / ${Math.round(others * 10) / 10}`;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
