import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { silentLogger } from '../../../core/logger.ts';
import { type Endpoint, type Readiness, STUCK_AFTER_MS, assessProcessorReadiness, combineReadiness, serveHealthAndMetrics } from '../../../topology/app/health.ts';
import { createMetrics, startObservability } from '../../../topology/app/metrics.ts';
import type { RuntimeEvent, RuntimeStats } from '../../../topology/runtime/types.ts';
import { parseExposition, sampleValue } from './scrape.ts';

const NOW = 10_000_000;
const partition = (overrides: { partition?: number; lag?: bigint; idleMs?: number } = {}) => ({
  topic: 'orders',
  partition: overrides.partition ?? 0,
  lag: overrides.lag,
  lastProgressAt: NOW - (overrides.idleMs ?? 0),
});

describe('assessProcessorReadiness', () => {
  it('is ready when running with partitions that are caught up or recently committed', () => {
    const result = assessProcessorReadiness({
      running: true,
      partitions: [partition({ lag: 0n, idleMs: 10 * STUCK_AFTER_MS }), partition({ partition: 1, lag: 500n, idleMs: STUCK_AFTER_MS }), partition({ partition: 2 })],
      failures: [],
      now: NOW,
    });
    expect(result).toEqual({ ready: true, details: { partitions: 3 } });
  });

  it('names the partitions that are behind without a commit for longer than the limit', () => {
    const result = assessProcessorReadiness({
      running: true,
      partitions: [partition({ lag: 3n, idleMs: STUCK_AFTER_MS + 1 }), partition({ partition: 1, lag: 0n, idleMs: STUCK_AFTER_MS + 1 })],
      failures: [],
      now: NOW,
    });
    expect(result.ready).toBe(false);
    expect(result.ready === false && result.reason).toBe('partitions behind without a commit for more than 30 s: orders-0');
    expect(result.details).toEqual({ stuck: [{ topic: 'orders', partition: 0, lag: '3', idleMs: STUCK_AFTER_MS + 1 }] });
  });

  it.each([
    ['not running', { running: false, partitions: [partition()], failures: [] }, 'the runtime is not running'],
    ['without partitions', { running: true, partitions: [], failures: [] }, 'no partitions assigned'],
    ['after a failure', { running: true, partitions: [partition()], failures: ['orders-1 failed'] }, 'stopped by a failure: orders-1 failed'],
  ])('is not ready %s', (_, input, reason) => {
    const result = assessProcessorReadiness({ ...input, now: NOW });
    expect(result.ready === false && result.reason).toBe(reason);
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

  async function serve(readiness: () => Readiness, registry: Registry = new Registry()) {
    endpoint = await serveHealthAndMetrics({ port: 0, host: '127.0.0.1', registry, readiness, logger: silentLogger });
    const base = `http://127.0.0.1:${endpoint.port}`;
    return (path: string) => fetch(`${base}${path}`);
  }

  it('answers /healthz with 200 even when not ready', async () => {
    const get = await serve(() => ({ ready: false, reason: 'no partitions assigned' }));
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'alive' });
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
    const observability = await startObservability({ port: 0, host: '127.0.0.1', logger: silentLogger, pollMs: 0 });
    try {
      const readyz = async () => {
        const response = await fetch(`http://127.0.0.1:${observability.port}/readyz`);
        return { status: response.status, body: await response.json() };
      };
      expect(await readyz()).toEqual({ status: 503, body: { status: 'not ready', reason: 'starting' } });
      expect((await fetch(`http://127.0.0.1:${observability.port}/healthz`)).status).toBe(200);

      const stats: RuntimeStats = { partitions: [], waiting: [], inflightTotal: 0, rebalances: 0, running: true };
      observability.watchProcessor({ runtime: { events$: new Subject<RuntimeEvent>(), stats: () => stats }, highWatermarks: async () => new Map() });
      observability.markStarted();
      expect(await readyz()).toEqual({ status: 503, body: { status: 'not ready', reason: 'no partitions assigned' } });

      stats.partitions = [{ topic: 'orders', partition: 0, epoch: 1, received: 0, processed: 0, inflight: 0, committedOffset: 0n, batchesCommitted: 0, deadLetters: 0, duplicatesIgnored: 0, paused: false }];
      expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', partitions: 1 } });
    } finally {
      await observability.stop();
    }
  });
});
