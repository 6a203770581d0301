/**
 * Health of a pipeline process: the readiness rule of a processor (pure), and the HTTP endpoint
 * (node:http) that answers /healthz, /readyz and /metrics.
 *
 * - /healthz: 200 whenever the process answers at all (liveness: the event loop runs).
 * - /readyz: 200 when every readiness check passes, else 503 with a JSON reason.
 * - /metrics: the process's Prometheus registry in the text exposition format.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

export type Readiness = { ready: true; details?: Record<string, unknown> } | { ready: false; reason: string; details?: Record<string, unknown> };

export type ReadinessCheck = () => Readiness;

/** A partition is stuck when it is behind and has not committed for this long. */
export const STUCK_AFTER_MS = 30_000;

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** High watermark − committed offset at the last poll; undefined before the first poll. */
  lag: bigint | undefined;
  /** When the partition last showed progress: assigned, committed, or fell behind after being caught up. */
  lastProgressAt: number;
}

export interface ProcessorHealthInput {
  running: boolean;
  /** Partitions currently processed by this replica. */
  partitions: readonly PartitionProgress[];
  /** Failures that stopped work (a failed partition, the consumer), as messages. */
  failures: readonly string[];
  now: number;
  stuckAfterMs?: number;
}

/** Pure: a processor is ready when it runs, owns a partition, has no failure and no stuck partition. */
export function assessProcessorReadiness(input: ProcessorHealthInput): Readiness {
  const stuckAfterMs = input.stuckAfterMs ?? STUCK_AFTER_MS;
  if (!input.running) return { ready: false, reason: 'the runtime is not running' };
  if (input.failures.length > 0) return { ready: false, reason: `stopped by a failure: ${input.failures.join('; ')}`, details: { failures: input.failures } };
  if (input.partitions.length === 0) return { ready: false, reason: 'no partitions assigned' };
  const stuck = input.partitions.filter((p) => p.lag !== undefined && p.lag > 0n && input.now - p.lastProgressAt > stuckAfterMs);
  if (stuck.length > 0) {
    const names = stuck.map((p) => `${p.topic}-${p.partition}`);
    return {
      ready: false,
      reason: `partitions behind without a commit for more than ${Math.round(stuckAfterMs / 1000)} s: ${names.join(', ')}`,
      details: { stuck: stuck.map((p) => ({ topic: p.topic, partition: p.partition, lag: String(p.lag), idleMs: input.now - p.lastProgressAt })) },
    };
  }
  return { ready: true, details: { partitions: input.partitions.length } };
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

export interface EndpointOptions {
  /** 0 picks a free port (tests); the CLI never passes 0, it means "off" in the config. */
  port: number;
  host?: string;
  registry: Registry;
  readiness: () => Readiness;
  logger: Logger;
}

export interface Endpoint {
  port: number;
  close(): Promise<void>;
}

export async function serveHealthAndMetrics(options: EndpointOptions): Promise<Endpoint> {
  const { registry, readiness, logger } = options;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(response, 200, 'application/json', '{"status":"alive"}\n');
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
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('serving /metrics, /healthz and /readyz', { port });
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

function send(response: http.ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}
