import { describe, expect, it } from '@jest/globals';
import { ServiceUnavailableError, StreamError } from '../../../core/errors.ts';
import { backoffDelay, withRetry } from '../../../core/retry.ts';

const fast = { initialDelayMs: 1, maxDelayMs: 2, jitter: 0 };

describe('withRetry', () => {
  it('retries a retriable failure until it succeeds', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new ServiceUnavailableError('PostgreSQL', 'connection reset');
        return 'ok';
      },
      { policy: fast },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries a programmer error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new TypeError('bug');
        },
        { policy: fast },
      ),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new StreamError('TRANSACTION_CONFLICT', 'deadlock', { retriable: true });
        },
        { policy: { ...fast, maxAttempts: 4 } },
      ),
    ).rejects.toThrow('deadlock');
    expect(calls).toBe(4);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter inside the jittered share', () => {
    const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
  });
});
