/**
 * The run's commands beside the order load: every few seconds one round (command-plan.ts) of
 * restocks and cancellations, published with a producer of its own (made on first use, and made
 * again after it could not be), each command recorded once its send was acknowledged. Faults are part of the run: a round whose orders cannot be read
 * (PostgreSQL away) sends no cancellations, and a send that fails (the broker away) is counted,
 * never retried, since a retry could deliver a request twice.
 */
import pg from 'pg';
import { commandIdSource, commandProducer } from '../app/send-command.ts';
import { silentLogger } from '../core/logger.ts';
import { deriveRandom, type Random } from '../core/random.ts';
import type { KafkaClient, KafkaProducer } from '../kafka/port.ts';
import { type CommandMix, DEFAULT_COMMAND_MIX, planCommandRound } from './command-plan.ts';
import { sendCancellations, sendRestocks } from './order-commands.ts';
import type { CancellationSent, RestockSent } from './order-flow-model.ts';

export interface CommandLoadOptions {
  databaseUrl: string;
  kafka: KafkaClient;
  restockCommandsTopic: string;
  cancelCommandsTopic: string;
  productIds: readonly number[];
  /** The order source whose orders are cancelled (`--source-id`). */
  sourceId: string;
  seed: number;
  /** Pause between the end of one round and the start of the next. */
  everyMs: number;
  mix?: Partial<CommandMix>;
}

/** How many orders one round reads: the newest, and drawn from the whole run. */
const NEWEST = 20;
const SAMPLED = 20;
const LOOK_TIMEOUT_MS = 3_000;

export class CommandLoad {
  readonly restocksSent: RestockSent[] = [];
  readonly cancellationsSent: CancellationSent[] = [];
  /** Commands whose send failed: they may or may not have arrived. */
  readonly unconfirmed = { restocks: 0, cancellations: 0 };
  rounds = 0;
  readonly #options: CommandLoadOptions;
  readonly #mix: CommandMix;
  readonly #pool: pg.Pool;
  readonly #random: Random;
  readonly #nextId = commandIdSource();
  #producer: Promise<KafkaProducer> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: CommandLoadOptions) {
    this.#options = options;
    this.#mix = { ...DEFAULT_COMMAND_MIX, ...options.mix };
    this.#random = deriveRandom(options.seed, 'verify-commands');
    this.#pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1, connectionTimeoutMillis: LOOK_TIMEOUT_MS, query_timeout: LOOK_TIMEOUT_MS });
    // A restart or pg_terminate_backend kills the pooled connection: the pool drops it, no crash.
    this.#pool.on('error', () => {});
  }

  start(): void {
    const tick = () => {
      this.#round = this.#sendRound().then(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.everyMs);
      });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Waits for the round under way; sends no more. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    await this.#pool.end().catch(() => {});
    await (await this.#producer?.catch(() => undefined))?.close().catch(() => {});
  }

  async #sendRound(): Promise<void> {
    const orders = await this.#readOrders().catch(() => ({ newestOrders: [], sampledOrders: [] }));
    const requestedBefore = [...new Set(this.cancellationsSent.map((cancellation) => cancellation.orderId))];
    const plan = planCommandRound({ round: this.rounds, productIds: this.#options.productIds, ...orders, requestedBefore }, this.#mix, this.#random, this.#nextId);
    // The database away: cancelling only unknown ids would give a round of nothing but `unknown_order`.
    const cancellations = orders.newestOrders.length === 0 ? [] : plan.cancellations;
    this.rounds++;
    await this.#send('restocks', plan.restocks, (producer) => sendRestocks(producer, this.#options.restockCommandsTopic, plan.restocks), this.restocksSent);
    await this.#send('cancellations', cancellations, (producer) => sendCancellations(producer, this.#options.cancelCommandsTopic, cancellations), this.cancellationsSent);
  }

  async #send<C>(kind: keyof CommandLoad['unconfirmed'], commands: C[], send: (producer: KafkaProducer) => Promise<void>, sent: C[]): Promise<void> {
    if (commands.length === 0) return;
    try {
      await send(await this.#commandProducer());
      sent.push(...commands);
    } catch {
      this.unconfirmed[kind] += commands.length;
    }
  }

  #commandProducer(): Promise<KafkaProducer> {
    this.#producer ??= commandProducer(this.#options.kafka, silentLogger, 'verify-commands').catch((error: unknown) => {
      this.#producer = undefined;
      throw error;
    });
    return this.#producer;
  }

  async #readOrders(): Promise<{ newestOrders: string[]; sampledOrders: string[] }> {
    const { sourceId } = this.#options;
    const newest = await this.#pool.query<{ id: string; source_seq: string }>('SELECT id, source_seq FROM orders WHERE source_id = $1 ORDER BY source_seq DESC LIMIT $2', [sourceId, NEWEST]);
    const last = Number(newest.rows[0]?.source_seq ?? 0);
    const seqs = Array.from({ length: SAMPLED }, () => 1 + this.#random.nextInt(Math.max(1, last)));
    const sampled = await this.#pool.query<{ id: string }>('SELECT id FROM orders WHERE source_id = $1 AND source_seq = ANY($2::bigint[])', [sourceId, seqs]);
    return { newestOrders: newest.rows.map((row) => row.id), sampledOrders: sampled.rows.map((row) => row.id) };
  }
}
