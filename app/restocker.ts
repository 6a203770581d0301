/**
 * The restocker of `topology run`: every RESTOCK_INTERVAL it reads the stock from PostgreSQL and
 * publishes a RestockInventory for each product below RESTOCK_BELOW (restock-plan.ts decides),
 * so the demo keeps confirming orders. A tick that fails (the broker or the database is down) is
 * skipped with one warning; the next one tries again. It never fails by itself.
 */
import type { Sequelize } from 'sequelize';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkOptions } from '../core/options.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../kafka/port.ts';
import { restockInventory } from '../processors/commands.ts';
import { readOffsets } from '../state/offset-store.ts';
import { readStock } from './catalogue.ts';
import { type PlannedRestock, planRestocks, type RestockPolicy, unconsumedRecords } from './restock-plan.ts';
import { commandIdSource, commandProducer, sendCommands } from './send-command.ts';

export interface RestockerOptions {
  sequelize: Sequelize;
  admin: KafkaAdmin;
  producer: KafkaProducer;
  logger: Logger;
  /** Where the commands go. */
  topic: string;
  /** The processors' consumer group: what it has consumed of `topic` is what was applied. */
  group: string;
  policy: RestockPolicy;
  /** Names who asks, in each command. */
  requestedBy?: string;
  clock?: () => number;
}

/** What one tick did. */
export type RestockTick = { outcome: 'restocked'; restocks: Array<PlannedRestock & { restockId: string }> } | { outcome: 'nothing-low' } | { outcome: 'waiting'; unconsumed: bigint } | { outcome: 'skipped'; error: string };

export class Restocker {
  readonly #options: Required<RestockerOptions>;
  readonly #nextId = commandIdSource();
  #waiting = false;

  constructor(options: RestockerOptions) {
    checkOptions('Restocker', options, { sequelize: 'object', admin: 'object', producer: 'object', logger: 'object', topic: 'non-empty-string', group: 'non-empty-string', requestedBy: 'non-empty-string', clock: 'function' }, [
      'sequelize',
      'admin',
      'producer',
      'logger',
      'topic',
      'group',
      'policy',
    ]);
    checkOptions('Restocker policy', options.policy, { below: 'positive-integer', quantity: 'positive-integer' }, ['below', 'quantity']);
    this.#options = { requestedBy: 'restocker', clock: Date.now, ...options };
  }

  /** Reads the stock, publishes the restocks it calls for. Never rejects: a failure is a skipped tick. */
  async tick(): Promise<RestockTick> {
    const { sequelize, admin, producer, logger, topic, group, policy, requestedBy, clock } = this.#options;
    try {
      const [stock, endOffsets, offsets] = await Promise.all([readStock(sequelize), admin.highWatermarks(topic), readOffsets(sequelize, group)]);
      const consumed = new Map(offsets.filter((offset) => offset.topic === topic).map((offset) => [offset.partition, offset.nextOffset]));
      const plan = planRestocks(stock, policy, unconsumedRecords(endOffsets, consumed));
      if (plan.kind === 'wait') {
        // Once per stretch of waiting, not every tick: a stopped processor would fill the log.
        if (!this.#waiting) logger.info('restocks wait: earlier restock commands are not applied yet', { topic, unconsumed: Number(plan.unconsumedCommands) });
        this.#waiting = true;
        return { outcome: 'waiting', unconsumed: plan.unconsumedCommands };
      }
      this.#waiting = false;
      if (plan.restocks.length === 0) return { outcome: 'nothing-low' };
      const restocks = plan.restocks.map((restock) => ({ ...restock, restockId: this.#nextId() }));
      const at = clock();
      await sendCommands(
        producer,
        topic,
        restocks.map(({ restockId, productId, quantity }) => ({ event: restockInventory({ restockId, productId, quantity, requestedBy }, at), key: String(productId) })),
      );
      logger.info(`restocked ${restocks.length} product${restocks.length === 1 ? '' : 's'} below ${policy.below} units: +${policy.quantity} each`, { products: restocks.map((restock) => restock.productId) });
      return { outcome: 'restocked', restocks };
    } catch (error) {
      logger.warn('restock tick skipped', { error: errorMessage(error) });
      return { outcome: 'skipped', error: errorMessage(error) };
    }
  }
}

/** A running restocker: a role of `topology run` (app/supervisor.ts). */
export interface RestockerRole {
  restocker: Restocker;
  stop(): Promise<void>;
  /** Never rejects: the restocker skips a failed tick and carries on. */
  failed: Promise<never>;
}

/** Starts ticking now, then every `intervalMs`, one tick at a time, until stopped. */
export async function startRestocker(
  deps: { sequelize: Sequelize; kafka: KafkaClient; admin: KafkaAdmin; logger: Logger },
  options: { topic: string; group: string; policy: RestockPolicy; intervalMs: number },
): Promise<RestockerRole> {
  checkOptions('restocker', options, { topic: 'non-empty-string', group: 'non-empty-string', intervalMs: 'positive-integer' }, ['topic', 'group', 'policy', 'intervalMs']);
  const logger = deps.logger.child('restocker');
  const producer = await commandProducer(deps.kafka, logger, `restocker-${process.pid}`);
  const restocker = new Restocker({ sequelize: deps.sequelize, admin: deps.admin, producer, logger, topic: options.topic, group: options.group, policy: options.policy });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking: Promise<unknown> = Promise.resolve();
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      ticking = restocker.tick().then(() => {
        if (!stopped) schedule(options.intervalMs);
      });
    }, delayMs);
  };
  schedule(0);
  logger.info('restocker started', { intervalMs: options.intervalMs, below: options.policy.below, quantity: options.policy.quantity, topic: options.topic });
  return {
    restocker,
    failed: new Promise<never>(() => {}),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await ticking;
      await producer.close().catch((error: unknown) => logger.warn('restocker producer did not close cleanly', { error: errorMessage(error) }));
    },
  };
}
