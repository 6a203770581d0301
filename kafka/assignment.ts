/**
 * Per-partition bookkeeping shared by both adapters: which partitions this member owns,
 * where each must be read next, which are paused, and whether a fetched batch may be
 * delivered. Pure logic, no I/O: the adapters feed it assignments and fetch results.
 *
 * The invariant it protects: a partition's records reach the handler exactly from the
 * start offset the runtime chose, contiguously, and never while the partition is paused,
 * awaiting its start offset, or owned by another member.
 */
import { type PartitionOffset, type TopicPartition, tpKey } from './port.ts';

interface PartitionState extends TopicPartition {
  /** Next offset to deliver; undefined until the runtime said where to start. */
  position: bigint | undefined;
  pausedByUser: boolean;
  /** The assignment round that added this partition: a late start for an older round is ignored. */
  round: number;
}

export interface AssignmentChange {
  added: TopicPartition[];
  revoked: TopicPartition[];
  /** Pass to `start` with the offsets for `added`. */
  round: number;
}

/** What to do with records fetched from `fetchedFrom`. */
export type Admission =
  | { action: 'deliver'; from: bigint }
  | { action: 'drop' }
  /** The fetch began past the position: records in between would be skipped, so read again from `to`. */
  | { action: 'reseek'; to: bigint };

export class AssignmentTracker {
  readonly #states = new Map<string, PartitionState>();
  #round = 0;

  /** Replaces the assignment; retained partitions keep their position and pause state. */
  assign(next: TopicPartition[]): AssignmentChange {
    const round = ++this.#round;
    const nextKeys = new Set(next.map(tpKey));
    const revoked: TopicPartition[] = [];
    for (const [key, state] of this.#states) {
      if (!nextKeys.has(key)) {
        this.#states.delete(key);
        revoked.push({ topic: state.topic, partition: state.partition });
      }
    }
    const added: TopicPartition[] = [];
    for (const tp of next) {
      const key = tpKey(tp);
      if (this.#states.has(key)) continue;
      this.#states.set(key, { topic: tp.topic, partition: tp.partition, position: undefined, pausedByUser: false, round });
      added.push({ topic: tp.topic, partition: tp.partition });
    }
    return { added: sortPartitions(added), revoked: sortPartitions(revoked), round };
  }

  /**
   * Sets start offsets for partitions added in `round`. Returns the partitions that got one;
   * partitions revoked meanwhile, or re-added by a later round, are left alone.
   */
  start(round: number, offsets: PartitionOffset[]): PartitionOffset[] {
    const started: PartitionOffset[] = [];
    for (const start of offsets) {
      const state = this.#states.get(tpKey(start));
      if (!state || state.round !== round || state.position !== undefined) continue;
      if (start.offset < 0n) throw new RangeError(`start offset of ${tpKey(start)} must not be negative, got ${start.offset}`);
      state.position = start.offset;
      started.push({ topic: state.topic, partition: state.partition, offset: start.offset });
    }
    return started;
  }

  /**
   * Moves owned partitions to these positions, either way, started or not: a re-claimed
   * partition restarts from its database offset. Returns the partitions moved.
   */
  seek(offsets: PartitionOffset[]): PartitionOffset[] {
    const moved: PartitionOffset[] = [];
    for (const target of offsets) {
      const state = this.#states.get(tpKey(target));
      if (!state) continue;
      if (target.offset < 0n) throw new RangeError(`seek offset of ${tpKey(target)} must not be negative, got ${target.offset}`);
      state.position = target.offset;
      moved.push({ topic: state.topic, partition: state.partition, offset: target.offset });
    }
    return moved;
  }

  /** Stops reading an owned partition until `seek` says where to continue. */
  halt(tp: TopicPartition): void {
    const state = this.#states.get(tpKey(tp));
    if (state) state.position = undefined;
  }

  /** Partitions of `round` still waiting for a start offset. */
  unstarted(round: number): TopicPartition[] {
    return [...this.#states.values()]
      .filter((state) => state.round === round && state.position === undefined)
      .map(({ topic, partition }) => ({ topic, partition }));
  }

  pause(partitions: TopicPartition[]): TopicPartition[] {
    return this.#setPaused(partitions, true);
  }

  resume(partitions: TopicPartition[]): TopicPartition[] {
    return this.#setPaused(partitions, false);
  }

  assignment(): TopicPartition[] {
    return sortPartitions([...this.#states.values()].map(({ topic, partition }) => ({ topic, partition })));
  }

  owns(tp: TopicPartition): boolean {
    return this.#states.has(tpKey(tp));
  }

  /** Whether the partition should be fetched now: owned, started and not paused. */
  isFetchable(tp: TopicPartition): boolean {
    const state = this.#states.get(tpKey(tp));
    return state !== undefined && state.position !== undefined && !state.pausedByUser;
  }

  /** Where each fetchable partition must be read next. */
  fetchPositions(): PartitionOffset[] {
    const positions: PartitionOffset[] = [];
    for (const state of this.#states.values()) {
      if (state.position !== undefined && !state.pausedByUser) {
        positions.push({ topic: state.topic, partition: state.partition, offset: state.position });
      }
    }
    return positions;
  }

  /** Started partitions with their positions, paused or not (to re-seek after a client reset its own). */
  positions(): PartitionOffset[] {
    return [...this.#states.values()]
      .filter((state) => state.position !== undefined)
      .map((state) => ({ topic: state.topic, partition: state.partition, offset: state.position as bigint }));
  }

  /** Next offset to deliver, if the partition is owned and started. */
  position(tp: TopicPartition): bigint | undefined {
    return this.#states.get(tpKey(tp))?.position;
  }

  admit(tp: TopicPartition, fetchedFrom: bigint): Admission {
    const state = this.#states.get(tpKey(tp));
    if (!state || state.position === undefined || state.pausedByUser) return { action: 'drop' };
    if (fetchedFrom > state.position) return { action: 'reseek', to: state.position };
    return { action: 'deliver', from: state.position };
  }

  /** Moves the position forward after a delivered fetch; never backwards. */
  advance(tp: TopicPartition, nextOffset: bigint): void {
    const state = this.#states.get(tpKey(tp));
    if (state?.position !== undefined && nextOffset > state.position) state.position = nextOffset;
  }

  #setPaused(partitions: TopicPartition[], paused: boolean): TopicPartition[] {
    const changed: TopicPartition[] = [];
    for (const tp of partitions) {
      const state = this.#states.get(tpKey(tp));
      if (!state || state.pausedByUser === paused) continue;
      state.pausedByUser = paused;
      changed.push({ topic: state.topic, partition: state.partition });
    }
    return changed;
  }
}

export function sortPartitions<T extends TopicPartition>(partitions: T[]): T[] {
  return [...partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}
