/**
 * How many bytes one produce may carry per topic, and how the relay cuts its rows to fit.
 *
 * The broker refuses a record batch larger than the topic's `max.message.bytes` (MESSAGE_TOO_LARGE),
 * and one send puts all of a partition's records in one batch. So the rows of one send are bounded
 * per topic by that topic's limit (a partition's share can only be smaller), read from the broker
 * and cached per topic: read again when a send is refused as too large, or before a row is parked
 * for its size with a reading older than REFRESH_BEFORE_PARK_MS (an operator who raised the limit
 * and retried the row must not meet the old value).
 */
import type { KafkaAdmin } from '../kafka/port.ts';

/** A v2 record batch's header (base offset, length, epoch, magic, CRC, attributes, ..., record count). */
export const BATCH_OVERHEAD_BYTES = 61;
/** Kept free in every batch on top of the per-record bounds, against any overhead this count misses. */
export const SAFETY_MARGIN_BYTES = 512;
const REFRESH_BEFORE_PARK_MS = 1000;

export interface SizedMessage {
  topic: string;
  key: string | null;
  payload: Buffer;
  headers: Record<string, string>;
}

/**
 * An upper bound of one record's encoded size in a v2 batch: every varint at its widest
 * (length, attributes, timestamp delta, offset delta, key length, value length, header count,
 * and per header its name and value lengths).
 */
export function recordSizeBound(message: SizedMessage): number {
  let size = 5 + 1 + 10 + 5 + 5 + (message.key === null ? 0 : Buffer.byteLength(message.key)) + 5 + message.payload.length + 5;
  for (const [name, value] of Object.entries(message.headers)) size += 5 + Buffer.byteLength(name) + 5 + Buffer.byteLength(value);
  return size;
}

/** Bytes of records one batch of a topic with this limit may carry. */
export function recordRoom(limitBytes: number): number {
  return Math.max(0, limitBytes - BATCH_OVERHEAD_BYTES - SAFETY_MARGIN_BYTES);
}

/**
 * Cuts rows (in id order) into consecutive sends whose records stay within `roomOf(topic)` per
 * topic. A row too large for its topic on its own goes to `oversized` instead: no send can carry it.
 */
export function splitBySize<T extends SizedMessage>(rows: readonly T[], roomOf: (topic: string) => number): { sends: T[][]; oversized: T[] } {
  const sends: T[][] = [];
  const oversized: T[] = [];
  let current: T[] = [];
  let bytesByTopic = new Map<string, number>();
  for (const row of rows) {
    const size = recordSizeBound(row);
    const room = roomOf(row.topic);
    if (size > room) {
      oversized.push(row);
      continue;
    }
    const used = bytesByTopic.get(row.topic) ?? 0;
    if (used + size > room && current.length > 0) {
      sends.push(current);
      current = [];
      bytesByTopic = new Map();
    }
    current.push(row);
    bytesByTopic.set(row.topic, (bytesByTopic.get(row.topic) ?? 0) + size);
  }
  if (current.length > 0) sends.push(current);
  return { sends, oversized };
}

/** The per-topic limits, read from the broker and cached. */
export class TopicLimits {
  readonly #admin: Pick<KafkaAdmin, 'maxMessageBytes'>;
  readonly #now: () => number;
  readonly #cache = new Map<string, { bytes: number; readAt: number }>();

  constructor(admin: Pick<KafkaAdmin, 'maxMessageBytes'>, now: () => number = Date.now) {
    this.#admin = admin;
    this.#now = now;
  }

  /** Loads the limits of these topics that are not cached yet; then `roomOf` answers for them. */
  async load(topics: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(topics)].filter((topic) => !this.#cache.has(topic)).map(async (topic) => {
        const bytes = await this.#admin.maxMessageBytes(topic);
        this.#cache.set(topic, { bytes, readAt: this.#now() });
      }),
    );
  }

  limitOf(topic: string): number {
    const cached = this.#cache.get(topic);
    if (cached === undefined) throw new Error(`the limit of topic ${topic} was not loaded`);
    return cached.bytes;
  }

  readonly roomOf = (topic: string): number => recordRoom(this.limitOf(topic));

  /** Forgets these topics' limits, so the next `load` reads them again. */
  invalidate(topics: Iterable<string>): void {
    for (const topic of topics) this.#cache.delete(topic);
  }

  /** Forgets the limits read more than a moment ago: before parking a row for its size, the limit is read afresh. */
  invalidateStale(topics: Iterable<string>): boolean {
    let any = false;
    for (const topic of new Set(topics)) {
      const cached = this.#cache.get(topic);
      if (cached && this.#now() - cached.readAt > REFRESH_BEFORE_PARK_MS) {
        this.#cache.delete(topic);
        any = true;
      }
    }
    return any;
  }
}
