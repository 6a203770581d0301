/**
 * Which partitions should stop fetching, from how many records each holds uncommitted.
 * Hysteresis keeps it from flapping: a partition pauses above its high-water mark and
 * resumes only below half of it; the same holds for the process-wide total. Pure state, no
 * I/O: the runtime applies the answer to the consumer.
 */
import type { PauseReason } from './types.ts';

export interface BackpressureLimits {
  maxInflightPerPartition: number;
  maxInflightTotal: number;
}

/** The pause reasons a backlog gives (the runtime adds its own: stopping, halted). */
export type BacklogPauseReason = Extract<PauseReason, 'partition' | 'total'>;

export class BackpressureGate {
  readonly #limits: BackpressureLimits;
  readonly #pausedPartitions = new Set<string>();
  #pausedTotal = false;

  constructor(limits: BackpressureLimits) {
    this.#limits = limits;
  }

  /**
   * Updates the state from the current in-flight counts (keyed by partition) and returns the
   * partitions that should be paused, with why. Partitions absent from `inflight` are forgotten.
   */
  evaluate(inflight: ReadonlyMap<string, number>): Map<string, BacklogPauseReason> {
    let total = 0;
    for (const [key, count] of inflight) {
      total += count;
      if (count > this.#limits.maxInflightPerPartition) this.#pausedPartitions.add(key);
      else if (count < this.#limits.maxInflightPerPartition / 2) this.#pausedPartitions.delete(key);
    }
    for (const key of this.#pausedPartitions) if (!inflight.has(key)) this.#pausedPartitions.delete(key);
    if (total > this.#limits.maxInflightTotal) this.#pausedTotal = true;
    else if (total < this.#limits.maxInflightTotal / 2) this.#pausedTotal = false;

    const paused = new Map<string, BacklogPauseReason>();
    for (const key of inflight.keys()) {
      if (this.#pausedPartitions.has(key)) paused.set(key, 'partition');
      else if (this.#pausedTotal) paused.set(key, 'total');
    }
    return paused;
  }
}
