/**
 * What metrics and health watch of a supervised role, across its restarts: each restart makes
 * a new instance (runtime, source, relay), while the watchers are set up once. A view follows
 * the current instance; counters add up over the instances, so they never go backwards.
 */
import { type Observable, Subject, type Subscription } from 'rxjs';
import type { RuntimeEvent, RuntimeStats } from '../topology/runtime/types.ts';
import type { WatchedRelay, WatchedRuntime, WatchedSource } from './metrics.ts';

const NO_RUNTIME: RuntimeStats = { partitions: [], waiting: [], inflightTotal: 0, rebalances: 0, running: false };

export class RuntimeView implements WatchedRuntime {
  readonly #events = new Subject<RuntimeEvent>();
  readonly events$: Observable<RuntimeEvent> = this.#events.asObservable();
  #current: WatchedRuntime | undefined;
  #subscription: Subscription | undefined;
  /** Rebalances of earlier instances, so the count keeps growing. */
  #rebalancesBefore = 0;

  follow(runtime: WatchedRuntime): void {
    if (this.#current) this.#rebalancesBefore += this.#current.stats().rebalances;
    this.#subscription?.unsubscribe();
    this.#current = runtime;
    this.#subscription = runtime.events$.subscribe((event) => this.#events.next(event));
  }

  stats(): RuntimeStats {
    const stats = this.#current?.stats() ?? NO_RUNTIME;
    return { ...stats, rebalances: this.#rebalancesBefore + stats.rebalances };
  }
}

export class SourceView implements WatchedSource {
  #current: WatchedSource | undefined;
  #before = { stored: 0, published: 0 };

  follow(source: WatchedSource): void {
    if (this.#current) {
      const last = this.#current.counters();
      this.#before = { stored: this.#before.stored + last.stored, published: this.#before.published + last.published };
    }
    this.#current = source;
  }

  counters(): { stored: number; published: number } {
    const now = this.#current?.counters() ?? { stored: 0, published: 0 };
    return { stored: this.#before.stored + now.stored, published: this.#before.published + now.published };
  }
}

export class RelayView implements WatchedRelay {
  #current: WatchedRelay | undefined;
  #before = { published: 0, retries: 0 };

  follow(relay: WatchedRelay): void {
    if (this.#current) {
      const last = this.#current.stats;
      this.#before = { published: this.#before.published + last.published, retries: this.#before.retries + last.retries };
    }
    this.#current = relay;
  }

  get stats(): { published: number; retries: number; leader: boolean } {
    const now = this.#current?.stats ?? { published: 0, retries: 0, leader: false };
    return { published: this.#before.published + now.published, retries: this.#before.retries + now.retries, leader: now.leader };
  }
}
