/**
 * The one polling wait: tests, benches and verify wait on a condition they can observe, never
 * on a fixed sleep. The predicate may throw while the condition is not there yet (a table not
 * created, a service still starting): the last error is named when the wait times out.
 */

export interface WaitForOptions {
  /** Default 15 000 ms. */
  timeoutMs?: number;
  /** Default 50 ms. */
  intervalMs?: number;
  /** Names what was awaited, for the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the timeout passes.
 * `options` may be just the message.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitForOptions | string = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 15_000, intervalMs = 50, message = 'condition' } = typeof options === 'string' ? { message: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
