/**
 * Where a repartitioned record came from, and how the downstream task reads every such record
 * once although the relay may publish one twice.
 *
 * Upstream, a record sent to a repartition gets the event id
 * `<repartition>:<topic>:<partition>:<offset>:<n>` (or `...:flush:<n>` when a processor's flush
 * emitted it): the upstream record it came from and its place among that record's outputs. For
 * one upstream partition these positions grow strictly in the order the outputs commit —
 * batches commit serially in offset order, a record's outputs in the order it made them, a
 * flush's after the batch's records — and the relay publishes rows in commit order. A re-send
 * (the relay died between publishing and marking) repeats a suffix of what it sent, in order.
 *
 * So the downstream task keeps, per upstream topic-partition, the highest position it has
 * processed (its watermarks) and skips any record at or below it. The watermarks are committed
 * in the offset row with each batch (state/offset-store.ts), in the same transaction as the
 * batch's effects, so a restarted or re-assigned task skips exactly what was already applied.
 */

/** A position in an upstream partition's output: the record's offset, then record outputs (0) before flush outputs (1), then the index. */
export interface OriginPosition {
  offset: bigint;
  phase: 0 | 1;
  index: number;
}

export interface RepartitionOrigin {
  topic: string;
  partition: number;
  position: OriginPosition;
}

/** The event id of a repartition's output (see the module header). */
export function repartitionEventId(repartition: string, origin: RepartitionOrigin): string {
  const place = origin.position.phase === 1 ? `flush:${origin.position.index}` : String(origin.position.index);
  return `${repartition}:${origin.topic}:${origin.partition}:${origin.position.offset}:${place}`;
}

const EVENT_ID = /^[^:]+:([^:]+):(\d+):(\d+):(?:(flush):)?(\d+)$/;

/** Reads the origin back from an event id; undefined for anything else (a record produced by hand). */
export function originOf(eventId: string | undefined): RepartitionOrigin | undefined {
  const match = eventId === undefined ? null : EVENT_ID.exec(eventId);
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]), position: { offset: BigInt(match[3]!), phase: match[4] ? 1 : 0, index: Number(match[5]) } };
}

export function comparePositions(a: OriginPosition, b: OriginPosition): number {
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  if (a.phase !== b.phase) return a.phase - b.phase;
  return a.index - b.index;
}

/** Watermarks as the offset row stores them: `{ "<topic>:<partition>": "<offset>:<phase>:<index>" }`. */
export type StoredWatermarks = Readonly<Record<string, string>>;

function parseWatermark(text: string): OriginPosition | undefined {
  const match = /^(\d+):([01]):(\d+)$/.exec(text);
  return match ? { offset: BigInt(match[1]!), phase: Number(match[2]) as 0 | 1, index: Number(match[3]) } : undefined;
}

/**
 * The downstream task's watermarks: `committed` as of its last commit, and those of the batch
 * attempt running now, which becomes committed when the attempt commits. An attempt run again
 * (a stale-state reload, a split) starts over from the committed ones, so it skips the same records.
 */
export class OriginWatermarks {
  #committed: Map<string, OriginPosition>;
  #attempt: Map<string, OriginPosition>;

  constructor(stored: StoredWatermarks | undefined) {
    this.#committed = new Map();
    for (const [source, text] of Object.entries(stored ?? {})) {
      const position = parseWatermark(text);
      if (position) this.#committed.set(source, position);
    }
    this.#attempt = new Map(this.#committed);
  }

  beginAttempt(): void {
    this.#attempt = new Map(this.#committed);
  }

  /** Whether the record is new to this attempt (then its position is the watermark now); false for a copy of one already processed. */
  admit(headers: Readonly<Record<string, string>>): boolean {
    const origin = originOf(headers['event-id']);
    if (origin === undefined) return true;
    const source = `${origin.topic}:${origin.partition}`;
    const seen = this.#attempt.get(source);
    if (seen !== undefined && comparePositions(origin.position, seen) <= 0) return false;
    this.#attempt.set(source, origin.position);
    return true;
  }

  /** The attempt's watermarks, to commit with its batch. */
  attempted(): StoredWatermarks {
    return Object.fromEntries([...this.#attempt].map(([source, p]) => [source, `${p.offset}:${p.phase}:${p.index}`]));
  }

  /** The attempt committed. */
  committed(): void {
    this.#committed = new Map(this.#attempt);
  }
}
