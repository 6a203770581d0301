import { isRetriable } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. `Infinity` retries until success or abort. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised ("full jitter" at 1). */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.5 };

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
 * or `signal` aborts. Retriable errors are those `isRetriable` accepts (network, PostgreSQL
 * serialization/deadlock/connection errors, errors flagged retriable); programmer errors never are.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
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
