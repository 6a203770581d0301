/** The processor bench's recorded result: one JSON file and a Markdown summary per run date. */
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BaselineResult } from '../naive-baseline.ts';
import type { CatchUpResult } from './catch-up.ts';
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

export interface ProcessorBenchResult {
  date: string;
  command: string;
  machine: Record<string, string | number>;
  settings: ProcessorBenchSettings;
  backlog?: { orders: number; buildMs: number };
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

/** The headline numbers; `ratio` compares the default client (platformatic, else the first measured) with the baseline. */
export function summarize(result: ProcessorBenchResult): ProcessorBenchSummary {
  const pipeline = Object.fromEntries(result.pipeline.map((run) => [run.client, run.ordersPerSecond]));
  const headline = result.pipeline.find((run) => run.client === 'platformatic') ?? result.pipeline[0];
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
  const rates = result.pipeline.map((run) => run.ordersPerSecond);
  return {
    throughput: { target: '>= 50,000 orders/s, one replica', reached: rates.length ? Math.min(...rates) >= 50_000 : null },
    ratio: { target: '>= 20x the naive baseline', reached: summary.ratio === null ? null : summary.ratio >= 20 },
    latency: { target: 'p99 <= 250 ms at 5,000 orders/s', reached: result.latency ? result.latency.p99 <= 250 : null },
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
    '## Catch-up throughput (backlog already on the topic, one replica)',
    '',
    '| client | orders | wall time | orders/s (wall) | orders/s (first to last commit) | startup | batches | mean batch | CPU µs/order: node / its postgres / kafka / others | CPU-bound ceiling | load 1m |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.pipeline.map(
      (run) =>
        `| ${run.client} | ${run.orders} | ${(run.elapsedMs / 1000).toFixed(1)} s | **${run.ordersPerSecond}** | ${run.steadyOrdersPerSecond} | ${run.startupMs} ms | ${run.batches} | ${run.meanBatchRecords} | ${costs(run)} | ${run.cpuBoundCeilingOrdersPerSecond}/s | ${run.loadAverage1m} |`,
    ),
    '',
    'Wall time runs from the startProcessor call (group join included) until every partition\'s offset in `stream_offsets` equals the high watermark; afterwards the bench checks that no order is still pending.',
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
      `## End-to-end latency at ${latency.targetRate} orders/s`,
      '',
      `Definition: ${latency.definition}.`,
      '',
      `Layout: ${latency.layout === 'all' ? 'one process (topology run --role all)' : 'one process per role'}; COMMIT_INTERVAL_MS ${latency.commitIntervalMs}; load average at the end ${latency.loadAverage1m}. ${latency.measuredOrders} orders measured (achieved ${latency.achievedRate} orders/s): p50 **${latency.p50} ms**, p90 ${latency.p90} ms, p99 **${latency.p99} ms**, p99.9 ${latency.p999} ms, max ${latency.max} ms. Of that, created -> decided (start of the sink transaction): p50 ${latency.toDecidedMs.p50} ms, p99 ${latency.toDecidedMs.p99} ms; sink transaction start -> published (relay): p50 ${latency.relayMs.p50} ms, p99 ${latency.relayMs.p99} ms. After stop: ${latency.pendingAfterStop} pending orders, ${latency.unpublishedAfterStop} unpublished outbox rows.`,
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
