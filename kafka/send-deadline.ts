/**
 * A producer whose every send ends: one neither acknowledged nor refused within the deadline
 * fails with a retriable SendTimeoutError, and the producer underneath is replaced by a new one.
 *
 * Why: a client can wait for ever on a broker that died or froze with requests in flight (seen
 * with @platformatic/kafka when one of three brokers was SIGKILLed: the relay and the order
 * source each hung on a send until restarted). The abandoned producer is closed in the
 * background; should its request land after all, those records arrive twice. Callers already
 * live with that: every record carries a deterministic event id.
 */
import { StreamError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkOptions } from '../core/options.ts';
import type { KafkaProducer, OutgoingMessage } from './port.ts';

export class SendTimeoutError extends StreamError {
  constructor(ms: number) {
    super('SERVICE_UNAVAILABLE', `a send was neither acknowledged nor refused within ${ms} ms`, { retriable: true, context: { timeoutMs: ms } });
  }
}

export interface SendDeadlineOptions {
  /** Makes the producer, at start and after each stuck send. */
  create: () => Promise<KafkaProducer>;
  timeoutMs: number;
  logger: Logger;
}

/**
 * A send takes milliseconds when the brokers answer. A stuck one is usually waiting on a broker that
 * froze or died, and it is still waiting after that broker is back: its send only ends at the deadline.
 * So the deadline bounds how long the relay and the source stay still after an outage ends: with 15 s,
 * in a three-broker run the relay stood still for 16.3 s after a paused broker's SIGCONT, its last
 * send abandoned at the deadline.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export class DeadlineProducer implements KafkaProducer {
  readonly #options: SendDeadlineOptions;
  #producer: KafkaProducer;
  #replacements = 0;

  private constructor(options: SendDeadlineOptions, first: KafkaProducer) {
    this.#options = options;
    this.#producer = first;
  }

  static async create(options: SendDeadlineOptions): Promise<DeadlineProducer> {
    checkOptions('DeadlineProducer', options, { create: 'function', timeoutMs: 'positive-integer', logger: 'object' }, ['create', 'timeoutMs', 'logger']);
    return new DeadlineProducer(options, await options.create());
  }

  /** How many times a stuck producer was replaced. */
  get replacements(): number {
    return this.#replacements;
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    const producer = this.#producer;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new SendTimeoutError(this.#options.timeoutMs)), this.#options.timeoutMs);
    });
    const sending = producer.send(messages);
    sending.catch(() => undefined); // once abandoned, its outcome no longer matters
    try {
      await Promise.race([sending, deadline]);
    } catch (error) {
      if (error instanceof SendTimeoutError) await this.#replace(producer);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }

  async #replace(stuck: KafkaProducer): Promise<void> {
    // Two sends stuck on the same producer replace it once.
    if (this.#producer !== stuck) return;
    this.#options.logger.warn('a send is stuck; abandoning its producer for a new one', { timeoutMs: this.#options.timeoutMs });
    this.#producer = await this.#options.create();
    this.#replacements++;
    // Closing may wait on the stuck request: never in the way of the next send.
    void stuck.close().catch(() => undefined);
  }
}
