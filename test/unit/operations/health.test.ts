import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import {
  assessProcessorLiveness,
  assessProcessorReadiness,
  combineLiveness,
  combineReadiness,
  type Endpoint,
  HALTED_LIVENESS_TIMEOUT_MS,
  type Liveness,
  type Readiness,
  STUCK_AFTER_MS,
  serveHealthAndMetrics,
} from '../../../app/health.ts';
import { createMetrics, startObservability } from '../../../app/metrics.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { RuntimeStats } from '../../../topology/runtime/types.ts';
import { parseExposition, sampleValue } from './scrape.ts';

const NOW = 10_000_000;
const partition = (overrides: { partition?: number; lag?: bigint; idleMs?: number } = {}) => ({
  topic: 'orders',
  partition: overrides.partition ?? 0,
  lag: overrides.lag,
  lastProgressAt: NOW - (overrides.idleMs ?? 0),
});

const waitingPartition = (overrides: { partition?: number; waitingMs?: number; reason?: string; needsOperator?: boolean } = {}) => ({
  topic: 'orders',
  partition: overrides.partition ?? 5,
  reason: overrides.reason ?? 'halted; re-claiming with backoff',
  since: NOW - (overrides.waitingMs ?? 0),
  ...(overrides.needsOperator ? { needsOperator: true } : {}),
});

describe('assessProcessorReadiness', () => {
  it('is ready when running with partitions that are caught up or recently committed', () => {
    const result = assessProcessorReadiness({
      running: true,
      partitions: [partition({ lag: 0n, idleMs: 10 * STUCK_AFTER_MS }), partition({ partition: 1, lag: 500n, idleMs: STUCK_AFTER_MS }), partition({ partition: 2 })],
      waiting: [],
      now: NOW,
    });
    expect(result).toEqual({ ready: true, details: { partitions: 3 } });
  });

  it('names the partitions that are behind without a commit for longer than the limit', () => {
    const result = assessProcessorReadiness({
      running: true,
      partitions: [partition({ lag: 3n, idleMs: STUCK_AFTER_MS + 1 }), partition({ partition: 1, lag: 0n, idleMs: STUCK_AFTER_MS + 1 })],
      waiting: [],
      now: NOW,
    });
    expect(result.ready).toBe(false);
    expect(result.ready === false && result.reason).toBe('partitions behind without a commit for more than 30 s: orders-0');
    expect(result.details).toEqual({ stuck: [{ topic: 'orders', partition: 0, lag: '3', idleMs: STUCK_AFTER_MS + 1 }] });
  });

  it('names every waiting partition with its reason, even when others run, and even when it is the only one assigned', () => {
    const offsetAhead = waitingPartition({ partition: 7, waitingMs: 2_000, reason: 'database offset 143645 is beyond the end 120 of orders-7: npm run topology -- reset', needsOperator: true });
    const withOthers = assessProcessorReadiness({ running: true, partitions: [partition()], waiting: [waitingPartition(), offsetAhead], now: NOW });
    expect(withOthers).toEqual({
      ready: false,
      reason: 'partitions waiting: orders-5 (halted; re-claiming with backoff); orders-7 (database offset 143645 is beyond the end 120 of orders-7: npm run topology -- reset)',
      details: {
        waiting: [
          { topic: 'orders', partition: 5, reason: 'halted; re-claiming with backoff', waitingMs: 0 },
          { topic: 'orders', partition: 7, reason: offsetAhead.reason, waitingMs: 2_000 },
        ],
      },
    });
    const alone = assessProcessorReadiness({ running: true, partitions: [], waiting: [waitingPartition()], now: NOW });
    expect(alone.ready === false && alone.reason).toBe('partitions waiting: orders-5 (halted; re-claiming with backoff)');
  });

  it.each([
    ['not running', { running: false, partitions: [partition()], waiting: [waitingPartition()] }, 'the runtime is not running'],
    ['without partitions', { running: true, partitions: [], waiting: [] }, 'no partitions assigned'],
  ])('is not ready %s', (_, input, reason) => {
    const result = assessProcessorReadiness({ ...input, now: NOW });
    expect(result.ready === false && result.reason).toBe(reason);
  });
});

describe('assessProcessorLiveness', () => {
  it('is alive with no waiting partition, and while partitions have waited up to the bound', () => {
    expect(assessProcessorLiveness({ waiting: [], now: NOW })).toEqual({ alive: true });
    expect(assessProcessorLiveness({ waiting: [waitingPartition({ waitingMs: HALTED_LIVENESS_TIMEOUT_MS })], now: NOW })).toEqual({ alive: true });
  });

  it('fails once a partition has waited longer than the bound, naming it, the reason and the setting', () => {
    const result = assessProcessorLiveness({ waiting: [waitingPartition({ waitingMs: 10_001 }), waitingPartition({ partition: 6, waitingMs: 9_000 })], now: NOW, haltedAfterMs: 10_000 });
    expect(result).toEqual({
      alive: false,
      reason: 'partitions halted for more than 10 s (HALTED_LIVENESS_TIMEOUT_MS): orders-5 (halted; re-claiming with backoff)',
      details: { halted: [{ topic: 'orders', partition: 5, reason: 'halted; re-claiming with backoff', waitingMs: 10_001 }] },
    });
  });

  it('ignores partitions only an operator can unblock: a restart would not help them', () => {
    expect(assessProcessorLiveness({ waiting: [waitingPartition({ waitingMs: 10 * HALTED_LIVENESS_TIMEOUT_MS, needsOperator: true })], now: NOW })).toEqual({ alive: true });
  });

  it('combines processors: the first that is not alive decides', () => {
    const dead = { alive: false as const, reason: 'b' };
    expect(combineLiveness([])).toEqual({ alive: true });
    expect(combineLiveness([() => ({ alive: true }), () => dead, () => ({ alive: false, reason: 'c' })])).toEqual(dead);
  });
});

describe('combineReadiness', () => {
  it('is ready without checks, reports the first failing check, and merges the details of passing ones', () => {
    const ok = (details?: Record<string, unknown>) => (): Readiness => (details ? { ready: true, details } : { ready: true });
    const down = (reason: string) => (): Readiness => ({ ready: false, reason });
    expect(combineReadiness([])).toEqual({ ready: true });
    expect(combineReadiness([ok(), down('a'), down('b')])).toEqual({ ready: false, reason: 'a' });
    expect(combineReadiness([ok({ partitions: 2 }), ok(), ok({ relay: 'leader' })])).toEqual({ ready: true, details: { partitions: 2, relay: 'leader' } });
  });
});

describe('serveHealthAndMetrics', () => {
  let endpoint: Endpoint | undefined;
  afterEach(() => endpoint?.close());

  async function serve(readiness: () => Readiness, registry: Registry = new Registry(), liveness?: () => Liveness) {
    endpoint = await serveHealthAndMetrics({ port: 0, host: '127.0.0.1', registry, readiness, ...(liveness ? { liveness } : {}), logger: silentLogger });
    const base = `http://127.0.0.1:${endpoint.port}`;
    return (path: string) => fetch(`${base}${path}`);
  }

  it('answers /healthz with 200 even when not ready', async () => {
    const get = await serve(() => ({ ready: false, reason: 'no partitions assigned' }));
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'alive' });
  });

  it('answers /healthz with 503 and the reason as JSON while liveness fails, and 200 again once it passes', async () => {
    let liveness: Liveness = { alive: false, reason: 'partitions halted for more than 120 s (HALTED_LIVENESS_TIMEOUT_MS): orders-3 (halted)', details: { halted: [{ partition: 3 }] } };
    const get = await serve(() => ({ ready: false, reason: 'x' }), new Registry(), () => liveness);
    const dead = await get('/healthz');
    expect(dead.status).toBe(503);
    expect(await dead.json()).toEqual({ status: 'not alive', reason: liveness.alive === false ? liveness.reason : '', halted: [{ partition: 3 }] });
    liveness = { alive: true };
    expect((await get('/healthz')).status).toBe(200);
  });

  it('binds 127.0.0.1 unless told otherwise', async () => {
    endpoint = await serveHealthAndMetrics({ port: 0, registry: new Registry(), readiness: () => ({ ready: true }), logger: silentLogger });
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal);
    expect((await fetch(`http://127.0.0.1:${endpoint.port}/healthz`)).status).toBe(200);
    if (external) await expect(fetch(`http://${external.address}:${endpoint.port}/healthz`)).rejects.toThrow();
  });

  it('answers /readyz with 503 and the reason as JSON, then 200 once ready', async () => {
    let ready: Readiness = { ready: false, reason: 'no partitions assigned' };
    const get = await serve(() => ready);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toBe('application/json');
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'no partitions assigned' });

    ready = { ready: true, details: { partitions: 4 } };
    const isReady = await get('/readyz');
    expect(isReady.status).toBe(200);
    expect(await isReady.json()).toEqual({ status: 'ready', partitions: 4 });
  });

  it('answers /readyz with 503 when the check itself throws', async () => {
    const get = await serve(() => {
      throw new Error('stats unavailable');
    });
    const response = await get('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not ready', reason: 'readiness check failed: stats unavailable' });
  });

  it('serves the registry on /metrics in the Prometheus text format', async () => {
    const metrics = createMetrics();
    metrics.deadLetters.inc(3);
    const get = await serve(() => ({ ready: true }), metrics.registry);
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(sampleValue(parseExposition(await response.text()), 'kstream_dead_letters_total')).toBe(3);
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const get = await serve(() => ({ ready: true }));
    expect((await get('/nope')).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${endpoint!.port}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('fails to start with a clear error when the port is taken', async () => {
    const get = await serve(() => ({ ready: true }));
    expect((await get('/healthz')).status).toBe(200);
    await expect(serveHealthAndMetrics({ port: endpoint!.port, host: '127.0.0.1', registry: new Registry(), readiness: () => ({ ready: true }), logger: silentLogger })).rejects.toThrow(
      `metrics endpoint unavailable: cannot listen on port ${endpoint!.port}`,
    );
  });
});

describe('startObservability', () => {
  it('answers /readyz "starting" until every role started, then with the processors\' readiness', async () => {
    const observability = await startObservability({ port: 0, host: '127.0.0.1', logger: silentLogger, pollMs: 0, haltedAfterMs: 5_000 });
    try {
      const readyz = async () => {
        const response = await fetch(`http://127.0.0.1:${observability.port}/readyz`);
        return { status: response.status, body: await response.json() };
      };
      expect(await readyz()).toEqual({ status: 503, body: { status: 'not ready', reason: 'starting' } });
      expect((await fetch(`http://127.0.0.1:${observability.port}/healthz`)).status).toBe(200);

      const stats: RuntimeStats = { partitions: [], waiting: [], inflightTotal: 0, rebalances: 0, running: true };
      observability.watchProcessor({ runtime: { stats: () => stats }, highWatermarks: async () => new Map() });
      observability.markStarted();
      expect(await readyz()).toEqual({ status: 503, body: { status: 'not ready', reason: 'no partitions assigned' } });

      stats.partitions = [{ topic: 'orders', partition: 0, epoch: 1, received: 0, processed: 0, inflight: 0, committedOffset: 0n, batchesCommitted: 0, deadLetters: 0, duplicatesIgnored: 0, paused: false }];
      expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', partitions: 1 } });

      // A partition halted for longer than HALTED_LIVENESS_TIMEOUT_MS: not ready, and not alive.
      stats.waiting = [{ topic: 'orders', partition: 1, reason: 'halted', since: Date.now() - 6_000 }];
      expect((await readyz()).status).toBe(503);
      const healthz = await fetch(`http://127.0.0.1:${observability.port}/healthz`);
      expect(healthz.status).toBe(503);
      expect(((await healthz.json()) as { reason: string }).reason).toBe('partitions halted for more than 5 s (HALTED_LIVENESS_TIMEOUT_MS): orders-1 (halted)');
    } finally {
      await observability.stop();
    }
  });
});
