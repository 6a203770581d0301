/**
 * The restocker on the real broker and PostgreSQL: one tick publishes a RestockInventory for
 * exactly the products whose stock is below the threshold, keyed by product id; it waits while
 * those are not consumed by the processors' group; a tick the database fails is skipped with one
 * warning. And as `topology run --role restocker`: it ticks on its interval and stops on Ctrl-C.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Restocker, startRestocker } from '../../../app/restocker.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { KafkaProducer } from '../../../kafka/port.ts';
import { restockInventoryCodec } from '../../../processors/commands.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { connectDatabase } from '../../../state/db.ts';
import { rewriteOffsets } from '../../../state/offset-store.ts';
import { execute } from '../../../state/sql.ts';
import { type CommandFixture, createCommandFixture } from '../../support/command-cli.ts';
import { TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import { readTopic } from '../../support/pipeline.ts';

const POLICY = { below: 20, quantity: 25 };

describe('the restocker', () => {
  let fixture: CommandFixture;
  let topics: TopicPool;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createCommandFixture('restocker', { partitions: 3 });
    topics = new TopicPool(fixture.admin);
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: 6, stock: 100 });
  });
  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await fixture?.cleanup();
  });

  const setStock = async (levels: Record<number, number>) => {
    for (const [productId, quantity] of Object.entries(levels)) await execute(fixture.db.sequelize, 'UPDATE inventory SET quantity = $quantity WHERE product_id = $productId', { quantity, productId: Number(productId) });
  };
  const commandsOn = async (topic: string) => (await readTopic(fixture, topic)).map((record) => ({ key: record.key?.toString(), command: restockInventoryCodec.decode(record.value) }));
  /** What the processors' group would store once it consumed every record of the topic. */
  const consumeAll = async (group: string, topic: string) => {
    const ends = await fixture.admin.highWatermarks(topic);
    await rewriteOffsets(fixture.db.sequelize, group, [...ends].map(([partition, nextOffset]) => ({ topic, partition, nextOffset })));
  };

  it('one tick restocks exactly the products below the threshold; the next waits until those are consumed', async () => {
    const topic = await topics.create('restocker-commands', 3);
    const group = uniqueName('restocker-group');
    const logger = memoryLogger();
    const restocker = new Restocker({ sequelize: fixture.db.sequelize, admin: fixture.admin, producer, logger, topic, group, policy: POLICY });
    await setStock({ 1: 100, 2: 0, 3: 20, 4: 100, 5: 19, 6: 21 });

    const first = await restocker.tick();
    expect(first).toMatchObject({ outcome: 'restocked', restocks: [{ productId: 2, quantity: 25 }, { productId: 5, quantity: 25 }] });
    const restockIds = first.outcome === 'restocked' ? first.restocks.map((restock) => restock.restockId) : [];
    const published = await commandsOn(topic);
    expect(published.map(({ key, command }) => ({ key, ...command.payload })).sort((a, b) => a.productId - b.productId)).toEqual([
      { key: '2', restockId: restockIds[0], productId: 2, quantity: 25, requestedBy: 'restocker' },
      { key: '5', restockId: restockIds[1], productId: 5, quantity: 25, requestedBy: 'restocker' },
    ]);
    expect(logger.lines.filter((line) => line.level === 'info').map((line) => [line.message, line.fields.products])).toEqual([['restocked 2 products below 20 units: +25 each', [2, 5]]]);

    expect(await restocker.tick()).toEqual({ outcome: 'waiting', unconsumed: 2n });
    expect(await restocker.tick()).toEqual({ outcome: 'waiting', unconsumed: 2n });
    expect(await commandsOn(topic)).toHaveLength(2);

    // The processor applied them, and orders took product 6 below the threshold meanwhile.
    await consumeAll(group, topic);
    await setStock({ 2: 25, 5: 44, 6: 3 });
    const third = await restocker.tick();
    expect(third).toMatchObject({ outcome: 'restocked', restocks: [{ productId: 6, quantity: 25 }] });
    expect((await commandsOn(topic)).map(({ command }) => command.payload.productId)).toEqual(expect.arrayContaining([2, 5, 6]));
    expect(await commandsOn(topic)).toHaveLength(3);

    await consumeAll(group, topic);
    await setStock({ 6: 28 });
    expect(await restocker.tick()).toEqual({ outcome: 'nothing-low' });
  });

  it('a tick the database fails is skipped with one warning, and the restocker ticks on', async () => {
    const topic = await topics.create('restocker-outage', 1);
    const closed = await connectDatabase(fixture.db.url, silentLogger, { poolMax: 1 });
    await closed.close();
    const logger = memoryLogger();
    const tick = await new Restocker({ sequelize: closed, admin: fixture.admin, producer, logger, topic, group: uniqueName('restocker-group'), policy: POLICY }).tick();
    expect(tick.outcome).toBe('skipped');
    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([['warn', 'restock tick skipped']]);

    const running = memoryLogger();
    const role = await startRestocker({ sequelize: closed, kafka: fixture.kafka, admin: fixture.admin, logger: running }, { topic, group: uniqueName('restocker-group'), policy: POLICY, intervalMs: 100 });
    try {
      await waitFor(() => running.lines.filter((line) => line.message === 'restock tick skipped').length >= 3, 'three skipped ticks in a row');
    } finally {
      await role.stop();
    }
    expect(await fixture.admin.highWatermarks(topic)).toEqual(new Map([[0, 0n]]));
  });

  it('runs as `topology run --role restocker` on its interval, and stops cleanly on Ctrl-C', async () => {
    await setStock({ 1: 100, 2: 100, 3: 100, 4: 7, 5: 100, 6: 100 });
    const run = fixture.start('run', ['--role', 'restocker', '--no-status', '--restock-interval', '1s', '--restock-below', '10', '--restock-quantity', '5'], { CONSUMER_GROUP: uniqueName('restocker-run') });
    await run.process.waitForLog('restocker started');
    const restocked = await run.process.waitForLog(/^restocked 1 product below 10 units: \+5 each$/);
    expect(restocked.products).toEqual([4]);
    const published = await commandsOn(fixture.topics.RESTOCK_COMMANDS_TOPIC);
    expect(published.map(({ key, command }) => [key, command.payload.quantity])).toEqual([['4', 5]]);
    // Its next ticks wait: nothing consumes the command here.
    await run.process.waitForLog('restocks wait: earlier restock commands are not applied yet');
    expect(await run.process.interrupt()).toEqual({ code: 0, signal: null });
    expect(run.process.logged('restocker stopped')).toHaveLength(1);
  });
});
