/**
 * Drives a PartitionFetcher: fetch what `positions()` says, hand each partition's result
 * to `onFetched`, repeat; idle (without polling the broker) while there is nothing to fetch.
 * Broker errors are retried with backoff; after several in a row the owner is told once
 * through `onError`, and the loop keeps trying.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { backoffDelay, RETRY_POLICIES, sleep } from '../../core/retry.ts';
import type { PartitionOffset } from '../port.ts';
import type { FetchedPartition, OutOfRangePartition, PartitionFetcher } from './fetcher.ts';

export interface FetchLoopHandlers {
  positions(): PartitionOffset[];
  /** Every partition one fetch round returned, together. */
  onFetched(partitions: FetchedPartition[]): void;
  onOutOfRange(partition: OutOfRangePartition): void;
  onError(error: unknown): void;
}

const FAILURES_BEFORE_REPORT = 5;

export class FetchLoop {
  readonly #fetcher: PartitionFetcher;
  readonly #handlers: FetchLoopHandlers;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #wakeUp: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(fetcher: PartitionFetcher, handlers: FetchLoopHandlers, logger: Logger) {
    this.#fetcher = fetcher;
    this.#handlers = handlers;
    this.#logger = logger;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Something became fetchable (start offsets known, a partition resumed). */
  wake(): void {
    this.#wakeUp?.();
  }

  /**
   * Stops after the fetch in flight, if any. Closing the fetcher right after this call cuts
   * that fetch's long poll short; `finished` then resolves promptly.
   */
  stop(): void {
    this.#stop.abort();
    this.wake();
  }

  async finished(): Promise<void> {
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      const positions = this.#handlers.positions();
      if (positions.length === 0) {
        await this.#idle();
        continue;
      }
      try {
        await this.#fetchAndDeliver(positions);
        failures = 0;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        failures++;
        const delayMs = backoffDelay(RETRY_POLICIES.fetch, failures);
        // Once a second through a long outage would flood the log: the first few, then every tenth.
        if (failures <= 3 || failures % 10 === 0) this.#logger.warn('fetch failed, retrying', { error: errorMessage(error), failures, delayMs });
        if (failures === FAILURES_BEFORE_REPORT) this.#handlers.onError(error);
        await sleep(delayMs, this.#stop.signal);
      }
    }
  }

  /**
   * One round, in a frame of its own: a round held in the loop's frame stays reachable while the
   * next fetch is awaited (the suspended loop keeps it), a whole round of decoded records more.
   */
  async #fetchAndDeliver(positions: PartitionOffset[]): Promise<void> {
    const round = await this.#fetcher.fetch(positions);
    if (this.#stop.signal.aborted) return;
    for (const partition of round.outOfRange) this.#handlers.onOutOfRange(partition);
    if (round.fetched.length > 0) this.#handlers.onFetched(round.fetched);
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeUp = () => {
        this.#wakeUp = undefined;
        resolve();
      };
      if (this.#stop.signal.aborted) this.#wakeUp();
    });
  }
}
