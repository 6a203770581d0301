/**
 * A wake-up call for one waiting loop that cannot be lost: a ring while the loop is busy makes
 * its next wait return at once. The relay rings it on every outbox NOTIFY; the loop waits on it
 * with its poll interval as the timeout, so polling remains the fallback.
 */
export class WakeSignal {
  #rung = false;
  #wake: (() => void) | undefined;

  ring(): void {
    this.#rung = true;
    this.#wake?.();
  }

  /** Resolves true on a ring (since the last wait, or during this one), false on timeout or abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#rung || signal?.aborted) {
      const rung = this.#rung;
      this.#rung = false;
      return Promise.resolve(rung);
    }
    return new Promise((resolve) => {
      const finish = (rung: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#wake = undefined;
        this.#rung = false;
        resolve(rung);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#wake = () => finish(true);
    });
  }
}
