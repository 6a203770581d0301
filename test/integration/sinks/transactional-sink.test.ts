import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FencedError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { encodeEvent, eventHeaders, inventoryUpdated } from '../../../processors/events.ts';
import { INVENTORY, ORDER_STATUS } from '../../../processors/reference-stores.ts';
import { type DeadLetter, DLQ_HEADERS } from '../../../sinks/dead-letter.ts';
import { type BatchToCommit, TransactionalSink } from '../../../sinks/transactional-sink.ts';
import { insertOrders } from '../../../state/commerce/order-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { claimPartitions } from '../../../state/offset-store.ts';
import { fetchUnpublished } from '../../../state/outbox-store.ts';
import { tableStore } from '../../../state/table-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const GROUP = 'g';
const TOPIC = 'orders';
const MONITOR_STAND = 3;
const ORDER_A = '01928f4e-5b6a-7c3d-8e9f-000000000001';
const ORDER_B = '01928f4e-5b6a-7c3d-8e9f-000000000002';

describe('transactional sink', () => {
  let db: TestDatabase;
  let sink: TransactionalSink;

  beforeAll(async () => {
    db = await createTestDatabase('sink');
    sink = new TransactionalSink({
      sequelize: db.sequelize,
      group: GROUP,
      dlqTopic: 'orders.dlq',
      stores: [tableStore(db.sequelize, INVENTORY), tableStore(db.sequelize, ORDER_STATUS)],
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE outbox, stream_offsets, orders, inventory, products RESTART IDENTITY CASCADE');
    await seed(db.sequelize);
    await insertOrders(db.sequelize, [
      { orderId: ORDER_A, customerId: 'c1', lines: [{ productId: MONITOR_STAND, quantity: 1 }], sourceId: 's', sourceSeq: 1 },
      { orderId: ORDER_B, customerId: 'c2', lines: [{ productId: MONITOR_STAND, quantity: 1 }], sourceId: 's', sourceSeq: 2 },
    ]);
  });

  /** The batch the inventory processor would produce for orders A (confirmed) and B (out of stock) at offsets 0..1. */
  function monitorStandBatch(epoch: bigint): BatchToCommit {
    const event = inventoryUpdated(
      {
        productId: MONITOR_STAND,
        quantity: 0,
        delta: -1,
        version: 1,
        reserved: 1,
        refused: 1,
        released: 0,
        restocked: 0,
        source: { topic: TOPIC, partition: 0, fromOffset: 0n, toOffset: 1n },
      },
      Date.now(),
    );
    return {
      topic: TOPIC,
      partition: 0,
      epoch,
      firstOffset: 0n,
      lastOffset: 1n,
      nextOffset: 2n,
      expectedNextOffset: 0n,
      records: 2,
      outputs: [{ sink: 'inventory-updated-sink', topic: 'inventory-updated', key: String(MONITOR_STAND), value: encodeEvent(event), headers: eventHeaders(event) }],
      storeChanges: new Map([
        ['inventory', [{ key: MONITOR_STAND, before: { quantity: 1, version: 0 }, after: { quantity: 0, version: 1 } }]],
        [
          'order-status',
          [
            { key: ORDER_A, before: { status: 'pending' }, after: { status: 'confirmed', lineResults: [{ productId: MONITOR_STAND, quantity: 1, outcome: 'reserved' }] } },
            { key: ORDER_B, before: { status: 'pending' }, after: { status: 'rejected', reason: 'out_of_stock', lineResults: [{ productId: MONITOR_STAND, quantity: 1, outcome: 'refused', reason: 'out_of_stock' }] } },
          ],
        ],
      ]),
      deadLetters: [],
    };
  }

  async function snapshot() {
    const [inventory] = await db.sequelize.query(`SELECT quantity, version FROM inventory WHERE product_id = ${MONITOR_STAND}`);
    const [orders] = await db.sequelize.query('SELECT id, status, reason FROM orders ORDER BY id');
    const [offsets] = await db.sequelize.query('SELECT next_offset, epoch FROM stream_offsets');
    const outbox = await fetchUnpublished(db.sequelize, 100);
    return { inventory, orders, offsets, outbox: outbox.map((row) => row.eventId) };
  }

  it('commits inventory, order statuses, the offset and the outbox row together', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    await sink.commit(monitorStandBatch(claim!.epoch));
    expect(await snapshot()).toEqual({
      inventory: [{ quantity: 0, version: '1' }],
      orders: [
        { id: ORDER_A, status: 'confirmed', reason: null },
        { id: ORDER_B, status: 'rejected', reason: 'out_of_stock' },
      ],
      offsets: [{ next_offset: '2', epoch: '1' }],
      outbox: [`inventory-updated:${MONITOR_STAND}:1`],
    });
  });

  it('rejects a zombie (stale epoch) and changes nothing', async () => {
    const [zombie] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    await claimPartitions(db.sequelize, GROUP, 'r2', [{ topic: TOPIC, partition: 0 }]);
    const before = await snapshot();
    await expect(sink.commit(monitorStandBatch(zombie!.epoch))).rejects.toBeInstanceOf(FencedError);
    expect(await snapshot()).toEqual(before);
    expect(before.inventory).toEqual([{ quantity: 1, version: '0' }]);
  });

  it('treats a retry of a batch that already committed as done, applying nothing twice', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    await sink.commit(monitorStandBatch(claim!.epoch));
    const after = await snapshot();
    await sink.commit(monitorStandBatch(claim!.epoch));
    expect(await snapshot()).toEqual(after);
  });

  it('recognises its own commit of a batch that moves no offset (a punctuation), when the acknowledgement was lost, instead of applying it again', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    // What an idle task's punctuation commits: no record, the offset where it is, a store change.
    const punctuation: BatchToCommit = {
      ...monitorStandBatch(claim!.epoch),
      firstOffset: 0n,
      lastOffset: -1n,
      nextOffset: 0n,
      records: 0,
      outputs: [],
      storeChanges: new Map([['inventory', [{ key: MONITOR_STAND, before: { quantity: 1, version: 0 }, after: { quantity: 5, version: 1 } }]]]),
      commitId: 'punctuation-1',
    };
    await sink.commit(punctuation);
    const after = await snapshot();
    expect(after.inventory).toEqual([{ quantity: 5, version: '1' }]);
    // The retry after a lost acknowledgement: fenced by its own id, and taken for the success it was.
    await sink.commit(punctuation);
    expect(await snapshot()).toEqual(after);
    // Another batch at the same offset is not mistaken for it.
    await expect(sink.commit({ ...punctuation, commitId: 'punctuation-2', storeChanges: new Map() })).resolves.toBeUndefined();
  });

  it('writes dead letters as outbox rows with their headers and original bytes, advancing the offset', async () => {
    const [claim] = await claimPartitions(db.sequelize, GROUP, 'r1', [{ topic: TOPIC, partition: 0 }]);
    const raw = Buffer.from([0xff, 0xfe, 0x00]);
    const letter: DeadLetter = { topic: TOPIC, partition: 0, offset: 0n, key: Buffer.from('3'), value: raw, headers: {}, errorClass: 'DecodeError', message: 'not JSON', node: 'orders-source', timestamp: 1_700_000_000_000 };
    await sink.commit({ ...monitorStandBatch(claim!.epoch), outputs: [], storeChanges: new Map(), lastOffset: 0n, nextOffset: 1n, records: 1, deadLetters: [letter] });
    const [row] = await fetchUnpublished(db.sequelize, 10);
    expect(row!.topic).toBe('orders.dlq');
    expect(Buffer.compare(row!.payload, raw)).toBe(0);
    expect(row!.headers).toMatchObject({
      [DLQ_HEADERS.topic]: TOPIC,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '0',
      [DLQ_HEADERS.errorClass]: 'DecodeError',
      [DLQ_HEADERS.message]: 'not JSON',
      [DLQ_HEADERS.timestamp]: new Date(1_700_000_000_000).toISOString(),
    });
    expect((await snapshot()).offsets).toEqual([{ next_offset: '1', epoch: '1' }]);
  });
});
