import { isRetriable } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. `Infinity` retries until success or abort. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised ("full jitter" at 1). */
  jitter: number;
}

const FOREVER = Number.POSITIVE_INFINITY;

/**
 * Every backoff of the project, by what is retried: one table, so the policies can be read
 * and compared side by side. Every loop that must never give up (a partition, the relay, a
 * role) retries forever and is stopped by its AbortSignal instead.
 */
export const RETRY_POLICIES = {
  /** withRetry without a policy: a one-off operation that may fail for good. */
  bounded: { maxAttempts: 8, initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.5 },
  /** A partition's claims, commits, loads and restores: until it works or the task stops. */
  partition: { maxAttempts: FOREVER, initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.5 },
  /** The outbox relay's failed round: capped lower, the relay is the end-to-end latency. */
  relay: { maxAttempts: FOREVER, initialDelayMs: 100, maxDelayMs: 5_000, jitter: 0.5 },
  /** The order source's failed store or publish. */
  source: { maxAttempts: FOREVER, initialDelayMs: 100, maxDelayMs: 5_000, jitter: 0.5 },
  /**
   * A platformatic fetch round: cheap to retry, and when a broker dies its partitions get new
   * leaders within seconds; a longer backoff only adds that much to the failover.
   */
  fetch: { maxAttempts: FOREVER, initialDelayMs: 200, maxDelayMs: 1_000, jitter: 0.5 },
  /** A role (or a processor replica's process) started again after it failed. */
  restart: { maxAttempts: FOREVER, initialDelayMs: 1_000, maxDelayMs: 30_000, jitter: 0.5 },
  /** Topic creation, which a busy broker's lagging metadata can fail once or twice. */
  topicCreation: { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 10_000, jitter: 0.5 },
} as const satisfies Record<string, RetryPolicy>;

/** Delay before attempt `attempt` (1-based count of failures so far): exponential, capped, jittered. */
export function backoffDelay(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  const jitterPart = exponential * policy.jitter;
  return Math.round(exponential - jitterPart + random() * jitterPart);
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Called before each wait, so callers can log and count retries. */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  retriable?: (error: unknown) => boolean;
  random?: () => number;
}

/**
 * Runs `operation` until it succeeds, a non-retriable error occurs, the attempts run out,
 * or `signal` aborts. Retriable errors are those `isRetriable` accepts: StreamErrors flagged
 * retriable, which is how the adapters translate network, broker and PostgreSQL
 * serialization/deadlock/connection errors; programmer errors never are.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { ...RETRY_POLICIES.bounded, ...options.policy };
  const retriable = options.retriable ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!retriable(error) || attempt >= policy.maxAttempts || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(policy, attempt, options.random);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/** A timer that resolves early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
