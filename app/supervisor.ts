/**
 * Keeps a role (source, processor, relay) running inside the process, like a small supervisor
 * tree: a role that fails, or cannot start, is stopped, then started again after a backoff
 * (exponential, jittered, capped), each restart logged. Only bad configuration (ConfigError)
 * is not retried: that is for the operator to fix, so the process exits with its one line.
 */
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkOptions } from '../core/options.ts';
import { backoffDelay, RETRY_POLICIES, type RetryPolicy, sleep } from '../core/retry.ts';

/** A started role. */
export interface RoleHandle {
  /** Stops the role and releases what it holds (connections, locks). */
  stop(): Promise<void>;
  /** Rejects when the role fails by itself; stays pending while it runs (and after `stop`). */
  failed: Promise<never>;
}

export interface SupervisorOptions<H extends RoleHandle> {
  name: string;
  start: () => Promise<H>;
  logger: Logger;
  /** Backoff between restarts (default 1 s doubling to 30 s, half of it jittered). */
  policy?: Partial<RetryPolicy>;
  /** A role that ran this long without failing starts its backoff over (default 60 s). */
  healthyAfterMs?: number;
  /** Each successful (re)start, e.g. to watch the new instance. */
  onStarted?: (handle: H) => void;
  /** Bad configuration after the first start: the role stays stopped and the process should exit. */
  onConfigError?: (error: ConfigError) => void;
}

export class RoleSupervisor<H extends RoleHandle> {
  readonly name: string;
  #restarts = 0;
  #current: H | undefined;
  readonly #options: SupervisorOptions<H>;
  readonly #policy: RetryPolicy;
  readonly #stop = new AbortController();
  #loop: Promise<void> = Promise.resolve();

  private constructor(options: SupervisorOptions<H>) {
    checkOptions('RoleSupervisor', options, { name: 'non-empty-string', start: 'function', logger: 'object', healthyAfterMs: 'positive-integer' }, ['name', 'start', 'logger']);
    this.name = options.name;
    this.#options = options;
    this.#policy = { ...RETRY_POLICIES.restart, ...options.policy };
  }

  /**
   * Starts the role under supervision. Resolves once the first start succeeded, or failed
   * (the supervisor then keeps retrying in the background); rejects only on a ConfigError.
   */
  static async start<H extends RoleHandle>(options: SupervisorOptions<H>): Promise<RoleSupervisor<H>> {
    const supervisor = new RoleSupervisor(options);
    await new Promise<void>((resolve, reject) => {
      supervisor.#loop = supervisor.#run(resolve, reject);
    });
    return supervisor;
  }

  /** Restarts so far (failures after a start, and failed starts). */
  get restarts(): number {
    return this.#restarts;
  }

  /** The running instance, if any. */
  get current(): H | undefined {
    return this.#current;
  }

  /** Stops supervising and stops the running instance; a pending restart is cancelled. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    const current = this.#current;
    this.#current = undefined;
    await current?.stop();
  }

  async #run(firstDone: () => void, firstFailed: (error: unknown) => void): Promise<void> {
    const { name, logger } = this.#options;
    const signal = this.#stop.signal;
    const stopped = new Promise<'stopped'>((resolve) => signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
    let first = true;
    let failures = 0;
    while (!signal.aborted) {
      const startedAt = Date.now();
      let handle: H;
      try {
        handle = await this.#options.start();
      } catch (error) {
        if (this.#configError(error, first, firstFailed)) return;
        failures++;
        this.#restarts++;
        const delayMs = backoffDelay(this.#policy, failures);
        logger.error(`${name} could not start; trying again in ${delayMs} ms`, { role: name, attempt: failures, delayMs, error: errorMessage(error) });
        if (first) firstDone();
        first = false;
        await sleep(delayMs, signal);
        continue;
      }
      this.#current = handle;
      this.#options.onStarted?.(handle);
      if (first) firstDone();
      first = false;
      const outcome = await Promise.race([handle.failed.then(() => 'stopped' as const, (error: unknown) => ({ error })), stopped]);
      // Stopped: stop() stops the instance itself.
      if (outcome === 'stopped' || signal.aborted) return;
      this.#current = undefined;
      await handle.stop().catch((error: unknown) => logger.warn(`${name} did not stop cleanly after failing`, { role: name, error: errorMessage(error) }));
      if (this.#configError(outcome.error, false, firstFailed)) return;
      if (Date.now() - startedAt >= (this.#options.healthyAfterMs ?? 60_000)) failures = 0;
      failures++;
      this.#restarts++;
      const delayMs = backoffDelay(this.#policy, failures);
      logger.error(`${name} failed; restarting it in ${delayMs} ms`, { role: name, restart: this.#restarts, delayMs, error: errorMessage(outcome.error) });
      await sleep(delayMs, signal);
    }
  }

  /** A ConfigError is never retried: the first start rejects with it, a later one tells the owner. */
  #configError(error: unknown, first: boolean, firstFailed: (error: unknown) => void): boolean {
    if (!(error instanceof ConfigError)) return false;
    if (first) firstFailed(error);
    else {
      this.#options.logger.error(`${this.#options.name} stopped: ${error.message}`, { role: this.#options.name });
      this.#options.onConfigError?.(error);
    }
    return true;
  }
}
