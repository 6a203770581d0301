/**
 * What health watches of the supervised processor role, across its restarts: each restart
 * makes a new runtime, while the watcher is set up once. The view answers with the current
 * runtime's state. (Counters need no view: every instance publishes on the same diagnostics
 * channel, see topology/runtime/diagnostics.ts.)
 */
import type { RuntimeStats } from '../topology/runtime/types.ts';
import type { WatchedRuntime } from './metrics.ts';

const NO_RUNTIME: RuntimeStats = { partitions: [], waiting: [], inflightTotal: 0, rebalances: 0, running: false };

export class RuntimeView implements WatchedRuntime {
  #current: WatchedRuntime | undefined;

  follow(runtime: WatchedRuntime): void {
    this.#current = runtime;
  }

  stats(): RuntimeStats {
    return this.#current?.stats() ?? NO_RUNTIME;
  }
}
