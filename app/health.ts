/**
 * Health of a pipeline process: the readiness and liveness rules of a processor (pure, computed
 * from the runtime's current state on every request, never remembered), and the HTTP endpoint
 * (node:http) that answers /healthz, /readyz and /metrics.
 *
 * - /readyz (readiness: send work here?): 200 when every readiness check passes, else 503 with
 *   a JSON reason: not running, no partitions, partitions waiting (halted, being claimed, or
 *   needing an operator), or partitions behind without a commit for STUCK_AFTER_MS.
 * - /healthz (liveness: restart me?): 200 while the process can make progress by itself; 503
 *   with a JSON reason once an assigned partition has waited longer than
 *   HALTED_LIVENESS_TIMEOUT_MS, so Docker or Kubernetes replaces the process.
 * - /metrics: the process's Prometheus registry in the text exposition format.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export type Readiness = { ready: true; details?: Record<string, unknown> } | { ready: false; reason: string; details?: Record<string, unknown> };

export type ReadinessCheck = () => Readiness;

export type Liveness = { alive: true } | { alive: false; reason: string; details?: Record<string, unknown> };

export type LivenessCheck = () => Liveness;

/** A partition is stuck when it is behind and has not committed for this long. */
export const STUCK_AFTER_MS = 30_000;

/** Default of HALTED_LIVENESS_TIMEOUT_MS: longer than a broker or database restart, shorter than an operator's patience. */
export const HALTED_LIVENESS_TIMEOUT_MS = 120_000;

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** High watermark − committed offset at the last poll; undefined before the first poll. */
  lag: bigint | undefined;
  /** When the partition last showed progress: assigned, committed, or fell behind after being caught up. */
  lastProgressAt: number;
}

/** An assigned partition without a running task (RuntimeStats.waiting). */
export interface WaitingPartitionState {
  topic: string;
  partition: number;
  reason: string;
  /** When it stopped being processed (ms since the epoch). */
  since: number;
  /**
   * Set when only an operator can unblock it (e.g. its database offset lies beyond the topic's
   * end: the reset command): a restart would not help and would disturb the other partitions,
   * so liveness ignores it; readiness still reports it.
   */
  needsOperator?: boolean;
}

export interface ProcessorHealthInput {
  running: boolean;
  /** Partitions currently processed by this replica. */
  partitions: readonly PartitionProgress[];
  /** Partitions assigned to this replica but not processed now, with why. */
  waiting: readonly WaitingPartitionState[];
  now: number;
  stuckAfterMs?: number;
}

const nameOf = (p: { topic: string; partition: number }) => `${p.topic}-${p.partition}`;

/**
 * Pure: a processor is ready when it runs, owns a partition, none of its assigned partitions
 * waits and none is stuck. The first failing rule gives the reason.
 */
export function assessProcessorReadiness(input: ProcessorHealthInput): Readiness {
  const stuckAfterMs = input.stuckAfterMs ?? STUCK_AFTER_MS;
  if (!input.running) return { ready: false, reason: 'the runtime is not running' };
  if (input.waiting.length > 0) {
    return {
      ready: false,
      reason: `partitions waiting: ${input.waiting.map((p) => `${nameOf(p)} (${p.reason})`).join('; ')}`,
      details: { waiting: input.waiting.map((p) => ({ topic: p.topic, partition: p.partition, reason: p.reason, waitingMs: Math.max(0, input.now - p.since) })) },
    };
  }
  if (input.partitions.length === 0) return { ready: false, reason: 'no partitions assigned' };
  const stuck = input.partitions.filter((p) => p.lag !== undefined && p.lag > 0n && input.now - p.lastProgressAt > stuckAfterMs);
  if (stuck.length > 0) {
    return {
      ready: false,
      reason: `partitions behind without a commit for more than ${Math.round(stuckAfterMs / 1000)} s: ${stuck.map(nameOf).join(', ')}`,
      details: { stuck: stuck.map((p) => ({ topic: p.topic, partition: p.partition, lag: String(p.lag), idleMs: input.now - p.lastProgressAt })) },
    };
  }
  return { ready: true, details: { partitions: input.partitions.length } };
}

/**
 * Pure: a processor is alive unless an assigned partition has waited longer than
 * `haltedAfterMs` for something a restart can fix (a halted task that never resumed, a claim
 * that never succeeds). Partitions that need an operator do not count.
 */
export function assessProcessorLiveness(input: { waiting: readonly WaitingPartitionState[]; now: number; haltedAfterMs?: number }): Liveness {
  const haltedAfterMs = input.haltedAfterMs ?? HALTED_LIVENESS_TIMEOUT_MS;
  const halted = input.waiting.filter((p) => !p.needsOperator && input.now - p.since > haltedAfterMs);
  if (halted.length === 0) return { alive: true };
  return {
    alive: false,
    reason: `partitions halted for more than ${Math.round(haltedAfterMs / 1000)} s (HALTED_LIVENESS_TIMEOUT_MS): ${halted.map((p) => `${nameOf(p)} (${p.reason})`).join('; ')}`,
    details: { halted: halted.map((p) => ({ topic: p.topic, partition: p.partition, reason: p.reason, waitingMs: input.now - p.since })) },
  };
}

/** Pure: the first failing check decides. No checks means alive. */
export function combineLiveness(checks: readonly LivenessCheck[]): Liveness {
  for (const check of checks) {
    const result = check();
    if (!result.alive) return result;
  }
  return { alive: true };
}

/** Pure: the first failing check decides; when all pass, their details are merged. No checks means ready. */
export function combineReadiness(checks: readonly ReadinessCheck[]): Readiness {
  let details: Record<string, unknown> | undefined;
  for (const check of checks) {
    const result = check();
    if (!result.ready) return result;
    if (result.details) details = { ...details, ...result.details };
  }
  return details ? { ready: true, details } : { ready: true };
}

/** Loopback unless METRICS_HOST says otherwise: metrics and health reveal topology and load. */
export const DEFAULT_HOST = '127.0.0.1';

export interface EndpointOptions {
  /** 0 picks a free port (tests); the CLI never passes 0, it means "off" in the config. */
  port: number;
  /** Default DEFAULT_HOST. */
  host?: string;
  registry: Registry;
  readiness: () => Readiness;
  /** Default: alive whenever the process answers. */
  liveness?: () => Liveness;
  logger: Logger;
}

export interface Endpoint {
  port: number;
  close(): Promise<void>;
}

export async function serveHealthAndMetrics(options: EndpointOptions): Promise<Endpoint> {
  const { registry, readiness, logger } = options;
  const liveness = options.liveness ?? ((): Liveness => ({ alive: true }));
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz': {
        const result = safeLiveness(liveness);
        const body = result.alive ? { status: 'alive' } : { status: 'not alive', reason: result.reason, ...result.details };
        return send(response, result.alive ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      }
      case '/readyz': {
        const result = safeReadiness(readiness);
        const body = result.ready ? { status: 'ready', ...result.details } : { status: 'not ready', reason: result.reason, ...result.details };
        return send(response, result.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      }
      case '/metrics':
        registry.metrics().then(
          (text) => send(response, 200, registry.contentType, text),
          (error: unknown) => {
            logger.warn('metrics scrape failed', { error: errorMessage(error) });
            send(response, 500, 'text/plain', `metrics unavailable: ${errorMessage(error)}\n`);
          },
        );
        return;
      default:
        return send(response, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
    }
  });
  // A scraper that keeps its connection open must not hold shutdown hostage.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ServiceUnavailableError('metrics endpoint', `cannot listen on port ${options.port} (${errorMessage(error)})`, error)));
    server.listen(options.port, options.host ?? DEFAULT_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('serving /metrics, /healthz and /readyz', { host: options.host ?? DEFAULT_HOST, port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safeReadiness(readiness: () => Readiness): Readiness {
  try {
    return readiness();
  } catch (error) {
    return { ready: false, reason: `readiness check failed: ${errorMessage(error)}` };
  }
}

function safeLiveness(liveness: () => Liveness): Liveness {
  try {
    return liveness();
  } catch {
    // A broken check must not get a healthy process killed: only a positive finding fails liveness.
    return { alive: true };
  }
}

function send(response: http.ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}
