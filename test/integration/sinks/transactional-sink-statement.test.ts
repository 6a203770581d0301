import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { FencedError, StaleStateError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { encodeEvent, eventHeaders, inventoryUpdated } from '../../../processors/events.ts';
import { INVENTORY, ORDER_STATUS } from '../../../processors/reference-stores.ts';
import { type BatchToCommit, TransactionalSink } from '../../../sinks/transactional-sink.ts';
import { insertOrders } from '../../../state/commerce/order-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { claimPartitions } from '../../../state/offset-store.ts';
import { fetchUnpublished, OUTBOX_CHANNEL } from '../../../state/outbox-store.ts';
import { tableStore } from '../../../state/table-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor } from '../../support/kafka.ts';

const GROUP = 'g';
const TOPIC = 'orders';
const KEYBOARD = 1; // seeded without stock: 0 units
const MONITOR_STAND = 3; // seeded with 1 unit
const ORDER = '01928f4e-5b6a-7c3d-8e9f-0000000000a1';

describe('transactional sink: one commit statement', () => {
  let db: TestDatabase;
  let sink: TransactionalSink;
  let listener: pg.Client;
  const notifications: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sink_statement');
    sink = new TransactionalSink({
      sequelize: db.sequelize,
      group: GROUP,
      dlqTopic: 'orders.dlq',
      stores: [tableStore(db.sequelize, INVENTORY), tableStore(db.sequelize, ORDER_STATUS)],
      logger: silentLogger,
    });
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (message) => notifications.push(message.channel));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await db?.drop();
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE outbox, stream_offsets, orders, inventory, products RESTART IDENTITY CASCADE');
    await seed(db.sequelize);
    await insertOrders(db.sequelize, [{ orderId: ORDER, customerId: 'c1', lines: [{ productId: KEYBOARD, quantity: 1 }], sourceId: 's', sourceSeq: 1 }]);
    notifications.length = 0;
  });

  /**
   * One order decided `confirmed`, the product's stock change computed from `quantityBefore`
   * units at the version before, and its InventoryUpdated at offset 0.
   */
  function batch(epoch: bigint, change: { productId: number; delta: number; version: number; quantityBefore?: number }): BatchToCommit {
    const { productId, delta, version, quantityBefore = -delta } = change;
    const event = inventoryUpdated(
      { productId, delta, version, quantity: quantityBefore + delta, reserved: 1, refused: 0, released: 0, restocked: 0, source: { topic: TOPIC, partition: 0, fromOffset: 0n, toOffset: 0n } },
      Date.now(),
    );
    return {
      topic: TOPIC,
      partition: 0,
      epoch,
      firstOffset: 0n,
      lastOffset: 0n,
      nextOffset: 1n,
      expectedNextOffset: 0n,
      records: 1,
      outputs: [{ sink: 'inventory-updated-sink', topic: 'inventory-updated', key: String(change.productId), value: encodeEvent(event), headers: eventHeaders(event) }],
      storeChanges: new Map([
        ['inventory', [{ key: productId, before: { quantity: quantityBefore, version: version - 1 }, after: { quantity: quantityBefore + delta, version } }]],
        ['order-status', [{ key: ORDER, before: { status: 'pending' }, after: { status: 'confirmed', lineResults: [{ productId: KEYBOARD, quantity: 1, outcome: 'reserved' }] } }]],
      ]),
      deadLetters: [],
    };
  }

  async function snapshot() {
    const [inventory] = await db.sequelize.query('SELECT product_id, quantity, version FROM inventory ORDER BY product_id');
    const [orders] = await db.sequelize.query('SELECT status FROM orders');
    const [offsets] = await db.sequelize.query('SELECT next_offset FROM stream_offsets');
    const outbox = await fetchUnpublished(db.sequelize, 100);
    return { inventory, orders, offsets, outbox: outbox.map((row) => row.eventId) };
  }

  /** The statements the pool sends while `work` runs. */
  async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
    const sent: string[] = [];
    // Sequelize reads `options.logging` on every query; its typings do not declare `options`.
    const options = (db.sequelize as unknown as { options: { logging: unknown } }).options;
    const previous = options.logging;
    options.logging = (sql: string) => sent.push(sql);
    try {
      await work();
    } finally {
      options.logging = previous;
    }
    return sent;
  }

  it('commits a batch in three round trips: BEGIN, one statement, COMMIT', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const sent = await statementsOf(() => sink.commit(batch(claim!.epoch, { productId: MONITOR_STAND, delta: -1, version: 1 })));
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/START TRANSACTION/);
    expect(sent[2]).toMatch(/COMMIT/);
    expect(await snapshot()).toEqual({
      inventory: [
        { product_id: KEYBOARD, quantity: 0, version: '0' },
        { product_id: 2, quantity: 0, version: '0' },
        { product_id: MONITOR_STAND, quantity: 0, version: '1' },
        { product_id: 4, quantity: 2, version: '0' },
      ],
      orders: [{ status: 'confirmed' }],
      offsets: [{ next_offset: '1' }],
      outbox: [`inventory-updated:${MONITOR_STAND}:1`],
    });
  });

  it('writes the inventory row of a product without stock', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    await sink.commit(batch(claim!.epoch, { productId: KEYBOARD, delta: 0, version: 1 }));
    expect((await snapshot()).inventory).toContainEqual({ product_id: KEYBOARD, quantity: 0, version: '1' });
  });

  it('notifies the relay when it commits outbox rows', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    await sink.commit(batch(claim!.epoch, { productId: MONITOR_STAND, delta: -1, version: 1 }));
    await waitFor(() => notifications.length > 0, { message: 'a NOTIFY on the outbox channel' });
    expect(notifications).toEqual([OUTBOX_CHANNEL]);
  });

  it('writes nothing and notifies nobody when fenced, even if its inventory is stale too', async () => {
    const [zombie] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const [owner] = await claimPartitions(db.sequelize, GROUP, 'r2', [{ topic: TOPIC, partition: 0 }]);
    const before = await snapshot();
    await expect(sink.commit(batch(zombie!.epoch, { productId: MONITOR_STAND, delta: -1, version: 7 }))).rejects.toBeInstanceOf(FencedError);
    expect(await snapshot()).toEqual(before);
    // The owner's commit comes after: notifications arrive in commit order, so once its NOTIFY is here, one from the zombie would be too.
    await sink.commit(batch(owner!.epoch, { productId: MONITOR_STAND, delta: -1, version: 1 }));
    await waitFor(() => notifications.length > 0, { message: "the owner's NOTIFY" });
    expect(notifications).toEqual([OUTBOX_CHANNEL]);
  });

  it('rolls everything back on stale inventory: offset, order status and outbox stay as they were', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const before = await snapshot();
    await expect(sink.commit(batch(claim!.epoch, { productId: MONITOR_STAND, delta: -1, version: 2 }))).rejects.toThrow(StaleStateError);
    expect(await snapshot()).toEqual(before);
    expect(before.orders).toEqual([{ status: 'pending' }]);
  });

  it('reports stale, writing nothing, a change computed from stock that a product without stock does not have', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const before = await snapshot();
    // Computed from 1 unit, but the product has 0.
    await expect(sink.commit(batch(claim!.epoch, { productId: KEYBOARD, delta: -1, version: 1 }))).rejects.toThrow(StaleStateError);
    expect(await snapshot()).toEqual(before);
  });

  it('reports stale, writing nothing, when an operator changed the quantity by hand since the batch read it', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    // A restock: the version stays, only the quantity the batch was computed from (1) is gone.
    await db.sequelize.query(`UPDATE inventory SET quantity = 50 WHERE product_id = ${MONITOR_STAND}`);
    const before = await snapshot();
    const refused = sink.commit(batch(claim!.epoch, { productId: MONITOR_STAND, delta: -1, version: 1 }));
    await expect(refused).rejects.toThrow(StaleStateError);
    await expect(refused).rejects.toMatchObject({ code: 'STALE_STATE', retriable: true, store: 'inventory', keys: [MONITOR_STAND] });
    expect(await snapshot()).toEqual(before);
  });

  it('waits, rather than blaming the batch, when it changes a store the sink was not given', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const before = await snapshot();
    const unknown = { ...batch(claim!.epoch, { productId: MONITOR_STAND, delta: -1, version: 1 }), storeChanges: new Map([['elsewhere', [{ key: 1, before: undefined, after: 1 }]]]) };
    await expect(sink.commit(unknown)).rejects.toMatchObject({ retriable: true, message: expect.stringMatching(/store "elsewhere", which the transactional sink has no backend for/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses two stores whose SQL names would clash', () => {
    const inventory = tableStore(db.sequelize, INVENTORY);
    expect(() => new TransactionalSink({ sequelize: db.sequelize, group: GROUP, dlqTopic: 'orders.dlq', stores: [inventory, { ...inventory, name: 'inventory!' }], logger: silentLogger })).toThrow(
      /stores "inventory" and "inventory!" both name their SQL "inventory"/,
    );
  });
});
