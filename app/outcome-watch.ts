/**
 * Waits for the outcome event that answers a command: the end offsets of the outcome topic are
 * taken BEFORE the command is published, and the topic is read from there, so an answer that
 * comes faster than the reader starts is not missed.
 */
import type { Codec } from '../core/codec.ts';
import { errorMessage } from '../core/errors.ts';
import { formatDuration } from '../core/numbers.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient, PartitionOffset } from '../kafka/port.ts';
import type { AnyEvent } from '../processors/event-json.ts';

export type OutcomeAnswer<E> = { event: E } | { event: undefined; why: string };

export class OutcomeWatch {
  readonly topic: string;
  readonly #starts: PartitionOffset[];

  private constructor(topic: string, starts: PartitionOffset[]) {
    this.topic = topic;
    this.#starts = starts;
  }

  /** Takes the topic's end offsets now: call it before publishing the command. */
  static async from(admin: KafkaAdmin, topic: string): Promise<OutcomeWatch> {
    const ends = await admin.highWatermarks(topic);
    return new OutcomeWatch(
      topic,
      [...ends].map(([partition, offset]) => ({ topic, partition, offset })),
    );
  }

  /**
   * The first event at or after the captured offsets whose id is `eventId`, decoded with
   * `codec`; undefined, with why, when none came within `timeoutMs` or the topic cannot be read.
   * Records that are not that event (other answers, undecodable bytes) are passed over.
   */
  async find<E extends AnyEvent>(kafka: KafkaClient, options: { eventId: string; codec: Codec<E>; timeoutMs: number }): Promise<OutcomeAnswer<E>> {
    const { eventId, codec, timeoutMs } = options;
    let answer!: (event: E) => void;
    const answered = new Promise<E>((resolve) => {
      answer = resolve;
    });
    const match = (record: ConsumedRecord): E | undefined => {
      const header = record.headers['event-id'];
      if (header !== undefined && header !== eventId) return undefined;
      try {
        const event = codec.decode(record.value);
        return event.eventId === eventId ? event : undefined;
      } catch {
        return undefined;
      }
    };
    const reader = kafka.partitionReader({ clientId: `outcome-watch-${process.pid}` });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${formatDuration(timeoutMs)}`), timeoutMs);
    });
    try {
      const started = reader.start(this.#starts, (batch) => {
        for (const record of batch.records) {
          const event = match(record);
          if (event) answer(event);
        }
      });
      // A reader that cannot start ends the wait with its reason; one that starts waits on.
      const unreadable = started.then(
        () => new Promise<never>(() => {}),
        (error: unknown) => `cannot read ${this.topic}: ${errorMessage(error)}`,
      );
      const outcome = await Promise.race([answered.then((event) => ({ event })), timedOut.then((why) => ({ event: undefined, why })), unreadable.then((why) => ({ event: undefined, why }))]);
      return outcome;
    } finally {
      clearTimeout(timer);
      await reader.close().catch(() => undefined);
    }
  }
}
