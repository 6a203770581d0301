/**
 * Where a repartitioned record came from, and how the downstream task reads every such record
 * once although the relay may publish one twice.
 *
 * Upstream, a record sent to a repartition gets the event id
 * `<repartition>:<topic>:<partition>:e<epoch>:<offset>:<n>` (or `...:flush:<n>` when a processor's
 * flush emitted it): the upstream claim that processed it (the epoch of its offset row), the
 * record it came from and its place among that record's outputs. For one upstream partition these
 * positions grow strictly in the order the outputs commit — a claim's epoch is above every
 * earlier one and its commits come after theirs (it fenced them), batches commit serially in
 * offset order, a record's outputs in the order it made them, a flush's after the batch's records
 * — and the relay publishes rows in commit order. A re-send (the relay died between publishing
 * and marking) repeats a suffix of what it sent, in order.
 *
 * The epoch comes first because offsets may go back: `topology reset` rewinds a partition (a
 * recreated topic starts again at 0) and bumps its epoch, so the outputs of the records read again
 * are new to the downstream watermarks, and their event ids differ from the rows the outbox still
 * holds for the old ones. Ids without the epoch (written before it was added) read as epoch 0.
 *
 * So the downstream task keeps, per upstream topic-partition, the highest position it has
 * processed (its watermarks) and skips any record at or below it. The watermarks are committed
 * in the offset row with each batch (state/offset-store.ts), in the same transaction as the
 * batch's effects, so a restarted or re-assigned task skips exactly what was already applied.
 */

/** A position in an upstream partition's output: the claim's epoch, the record's offset, then record outputs (0) before flush outputs (1), then the index. */
export interface OriginPosition {
  epoch: bigint;
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
  const { epoch, offset, phase, index } = origin.position;
  const place = phase === 1 ? `flush:${index}` : String(index);
  return `${repartition}:${origin.topic}:${origin.partition}:e${epoch}:${offset}:${place}`;
}

const EVENT_ID = /^[^:]+:([^:]+):(\d+):(?:e(\d+):)?(\d+):(?:(flush):)?(\d+)$/;

/** Reads the origin back from an event id; undefined for anything else (a record produced by hand). */
export function originOf(eventId: string | undefined): RepartitionOrigin | undefined {
  const match = eventId === undefined ? null : EVENT_ID.exec(eventId);
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]), position: { epoch: BigInt(match[3] ?? 0), offset: BigInt(match[4]!), phase: match[5] ? 1 : 0, index: Number(match[6]) } };
}

export function comparePositions(a: OriginPosition, b: OriginPosition): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  if (a.phase !== b.phase) return a.phase - b.phase;
  return a.index - b.index;
}

/** Watermarks as the offset row stores them: `{ "<topic>:<partition>": "e<epoch>:<offset>:<phase>:<index>" }` (without `e<epoch>:`, epoch 0). */
export type StoredWatermarks = Readonly<Record<string, string>>;

function parseWatermark(text: string): OriginPosition | undefined {
  const match = /^(?:e(\d+):)?(\d+):([01]):(\d+)$/.exec(text);
  return match ? { epoch: BigInt(match[1] ?? 0), offset: BigInt(match[2]!), phase: Number(match[3]) as 0 | 1, index: Number(match[4]) } : undefined;
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
    return Object.fromEntries([...this.#attempt].map(([source, p]) => [source, `e${p.epoch}:${p.offset}:${p.phase}:${p.index}`]));
  }

  /** The attempt committed. */
  committed(): void {
    this.#committed = new Map(this.#attempt);
  }
}
