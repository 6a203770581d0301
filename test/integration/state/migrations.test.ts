import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueryTypes, type Sequelize } from 'sequelize';
import { silentLogger } from '../../../core/logger.ts';
import { MIGRATIONS } from '../../../state/migrations/index.ts';
import { migrate, migrationStatus, rollback } from '../../../state/migrator.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const TABLES = ['dead_letter_replays', 'inventory', 'order_lines', 'order_source_progress', 'orders', 'outbox', 'outbox_relay_leases', 'products', 'restocks', 'stream_offsets'];

async function tables(sequelize: Sequelize): Promise<string[]> {
  // pg_tables rather than information_schema.tables, whose results Sequelize reshapes.
  const rows = await sequelize.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename",
    { type: QueryTypes.SELECT },
  );
  return rows.map((row) => row.tablename);
}

async function columns(sequelize: Sequelize, table: string): Promise<string[]> {
  const rows = await sequelize.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $table ORDER BY column_name",
    { bind: { table }, type: QueryTypes.SELECT },
  );
  return rows.map((row) => row.column_name);
}

async function indexes(sequelize: Sequelize, table: string): Promise<string[]> {
  const rows = await sequelize.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = $table ORDER BY indexname", {
    bind: { table },
    type: QueryTypes.SELECT,
  });
  return rows.map((row) => row.indexname);
}

describe('migrations', () => {
  let db: TestDatabase;
  async function fillfactor(sequelize: TestDatabase['sequelize'], table: string): Promise<string | null> {
    const [rows] = await sequelize.query(`SELECT array_to_string(reloptions, ',') AS options FROM pg_class WHERE relname = '${table}'`);
    return (rows as Array<{ options: string | null }>)[0]?.options ?? null;
  }

  beforeAll(async () => {
    db = await createTestDatabase('migrations', { migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('go up, all the way down, and up again', async () => {
    expect(await migrate(db.sequelize, silentLogger)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tables(db.sequelize)).toEqual(TABLES);
    expect(await migrate(db.sequelize, silentLogger)).toEqual([]);

    expect(await indexes(db.sequelize, 'outbox')).toEqual(['outbox_event_id_unique', 'outbox_parked_idx', 'outbox_pending_idx', 'outbox_pkey']);
    expect(await indexes(db.sequelize, 'inventory')).toEqual(['inventory_partition_idx', 'inventory_pkey']);
    expect(await indexes(db.sequelize, 'order_lines')).toEqual(['order_lines_pkey', 'order_lines_product_idx', 'order_lines_product_once']);
    expect(await indexes(db.sequelize, 'restocks')).toEqual(['restocks_pkey', 'restocks_product_id']);
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0014-outbox-payload-compression']);
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0013-dead-letter-replays']);
    expect(await tables(db.sequelize)).not.toContain('dead_letter_replays');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0012-outbox-framed-rows']);
    expect(await columns(db.sequelize, 'outbox')).not.toContain('record_count');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0011-order-flow']);
    expect(await tables(db.sequelize)).not.toContain('restocks');
    expect(await columns(db.sequelize, 'orders')).not.toContain('line_results');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0010-order-lines']);
    expect(await tables(db.sequelize)).not.toContain('order_lines');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0009-last-commit-id']);
    expect(await columns(db.sequelize, 'stream_offsets')).not.toContain('last_commit_id');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0008-origin-watermarks']);
    expect(await columns(db.sequelize, 'stream_offsets')).not.toContain('origin_watermarks');
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0007-inventory-store-table']);
    expect(await columns(db.sequelize, 'inventory')).not.toContain('partition');
    expect(await indexes(db.sequelize, 'inventory')).toEqual(['inventory_pkey']);
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0006-outbox-parking-and-relay-lease']);
    expect(await tables(db.sequelize)).not.toContain('outbox_relay_leases');
    expect(await columns(db.sequelize, 'outbox')).not.toContain('parked_at');
    expect(await indexes(db.sequelize, 'outbox')).toEqual(['outbox_event_id_unique', 'outbox_pkey', 'outbox_unpublished_idx']);
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0005-hot-update-fillfactor']);
    expect(await fillfactor(db.sequelize, 'orders')).toBeNull();
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0004-outbox']);
    expect(await tables(db.sequelize)).not.toContain('outbox');

    await rollback(db.sequelize, silentLogger, { to: 0 });
    expect(await tables(db.sequelize)).toEqual([]);
    expect((await migrationStatus(db.sequelize, silentLogger)).executed).toEqual([]);

    await migrate(db.sequelize, silentLogger);
    expect(await tables(db.sequelize)).toEqual(TABLES);
    expect(await migrationStatus(db.sequelize, silentLogger)).toEqual({ executed: MIGRATIONS.map((m) => m.name), pending: [] });
    expect(await fillfactor(db.sequelize, 'orders')).toBe('fillfactor=80');
  });

  it('roll back down to and including a named migration', async () => {
    expect(await rollback(db.sequelize, silentLogger, { to: '0003-stream-offsets' })).toEqual([
      '0014-outbox-payload-compression',
      '0013-dead-letter-replays',
      '0012-outbox-framed-rows',
      '0011-order-flow',
      '0010-order-lines',
      '0009-last-commit-id',
      '0008-origin-watermarks',
      '0007-inventory-store-table',
      '0006-outbox-parking-and-relay-lease',
      '0005-hot-update-fillfactor',
      '0004-outbox',
      '0003-stream-offsets',
    ]);
    expect(await tables(db.sequelize)).toEqual(['inventory', 'order_source_progress', 'orders', 'products']);
    await migrate(db.sequelize, silentLogger);
  });

  it('serialise concurrent runs: two migrators apply each migration once', async () => {
    await rollback(db.sequelize, silentLogger, { to: 0 });
    const [first, second] = await Promise.all([migrate(db.sequelize, silentLogger), migrate(db.sequelize, silentLogger)]);
    expect([...first, ...second].sort()).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('refuse negative stock with a CHECK', async () => {
    await db.sequelize.query("INSERT INTO products (id, name, price) VALUES (900, 'Checked', 1)");
    await expect(db.sequelize.query('INSERT INTO inventory (product_id, quantity) VALUES (900, -1)')).rejects.toThrow(/inventory_quantity_non_negative/);
    // The product's row, with 0 units, came with the product.
    await expect(db.sequelize.query('UPDATE inventory SET quantity = quantity - 1 WHERE product_id = 900')).rejects.toThrow(/inventory_quantity_non_negative/);
  });

  it('give every product its inventory row: those lacking one when 0007 runs, and every new product', async () => {
    await rollback(db.sequelize, silentLogger, { to: '0007-inventory-store-table' });
    await db.sequelize.query("INSERT INTO products (id, name, price) VALUES (910, 'Without stock', 1), (911, 'Stocked', 1)");
    await db.sequelize.query('INSERT INTO inventory (product_id, quantity, version) VALUES (911, 5, 3)');
    await migrate(db.sequelize, silentLogger);
    await db.sequelize.query("INSERT INTO products (id, name, price) VALUES (912, 'Added later', 1), (913, 'With it', 1)");
    const rows = await db.sequelize.query<{ product_id: number; quantity: number; version: string; partition: number | null }>(
      'SELECT product_id, quantity, version, partition FROM inventory WHERE product_id >= 910 ORDER BY product_id',
      { type: QueryTypes.SELECT },
    );
    expect(rows).toEqual([
      { product_id: 910, quantity: 0, version: '0', partition: null },
      { product_id: 911, quantity: 5, version: '3', partition: null },
      { product_id: 912, quantity: 0, version: '0', partition: null },
      { product_id: 913, quantity: 0, version: '0', partition: null },
    ]);
  });

  it('give every order stored before 0010 one line (line 0, its product and quantity), and drop only the lines on the way down', async () => {
    const [early, late] = ['00000000-0000-4000-8000-000000000a01', '00000000-0000-4000-8000-000000000a02'];
    await rollback(db.sequelize, silentLogger, { to: '0010-order-lines' });
    await db.sequelize.query(`INSERT INTO orders (id, product_id, quantity, source_id, source_seq) VALUES ('${early}', 7, 3, 'lines', 1), ('${late}', 8, 1, 'lines', 2)`);
    await migrate(db.sequelize, silentLogger);
    const lines = () =>
      db.sequelize.query<{ order_id: string; line_no: number; product_id: number; quantity: number }>(
        "SELECT order_id, line_no, product_id, quantity FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE source_id = 'lines') ORDER BY order_id, line_no",
        { type: QueryTypes.SELECT },
      );
    expect(await lines()).toEqual([
      { order_id: early, line_no: 0, product_id: 7, quantity: 3 },
      { order_id: late, line_no: 0, product_id: 8, quantity: 1 },
    ]);

    await db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${early}', 1, 9, 2)`);
    await expect(db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${early}', 2, 10, 0)`)).rejects.toThrow(/order_lines_quantity_positive/);
    await expect(db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${early}', 2, 7, 1)`)).rejects.toMatchObject({ parent: { constraint: 'order_lines_product_once' } });
    await expect(db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${late}', 0, 11, 1)`)).rejects.toMatchObject({ parent: { constraint: 'order_lines_pkey' } });
    await expect(
      db.sequelize.query("INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('00000000-0000-4000-8000-000000000aff', 0, 7, 1)"),
    ).rejects.toMatchObject({ parent: { constraint: 'order_lines_order_id_fkey' } });
    await db.sequelize.query(`DELETE FROM orders WHERE id = '${late}'`);
    expect(await lines()).toEqual([
      { order_id: early, line_no: 0, product_id: 7, quantity: 3 },
      { order_id: early, line_no: 1, product_id: 9, quantity: 2 },
    ]);

    expect(await rollback(db.sequelize, silentLogger, { to: '0010-order-lines' })).toEqual(['0014-outbox-payload-compression', '0013-dead-letter-replays', '0012-outbox-framed-rows', '0011-order-flow', '0010-order-lines']);
    expect(await tables(db.sequelize)).not.toContain('order_lines');
    const kept = await db.sequelize.query("SELECT id, product_id, quantity FROM orders WHERE source_id = 'lines'", { type: QueryTypes.SELECT });
    expect(kept).toEqual([{ id: early, product_id: 7, quantity: 3 }]);
    await migrate(db.sequelize, silentLogger);
    expect(await lines()).toEqual([{ order_id: early, line_no: 0, product_id: 7, quantity: 3 }]);
  });

  it('keep the order flow: the new statuses, line results, a cancel request, the lines of each order as one JSON row, and restocks once per id', async () => {
    const order = '00000000-0000-4000-8000-000000000b01';
    await db.sequelize.query(`INSERT INTO orders (id, product_id, quantity, source_id, source_seq) VALUES ('${order}', 7, 3, 'flow', 1)`);
    await db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${order}', 0, 7, 3), ('${order}', 1, 9, 2)`);
    const [contents] = await db.sequelize.query(`SELECT id, lines FROM order_contents WHERE id = '${order}'`, { type: QueryTypes.SELECT });
    expect(contents).toEqual({ id: order, lines: [{ productId: 7, quantity: 3 }, { productId: 9, quantity: 2 }] });
    await db.sequelize.query(`UPDATE orders SET status = 'reserving', line_results = '[{"productId":7,"quantity":3,"outcome":"reserved"}]', cancel_request = '00000000-0000-4000-8000-0000000000cc' WHERE id = '${order}'`);
    await db.sequelize.query(`UPDATE orders SET status = 'cancelled' WHERE id = '${order}'`);
    await expect(db.sequelize.query(`UPDATE orders SET status = 'lost' WHERE id = '${order}'`)).rejects.toMatchObject({ parent: { constraint: 'orders_status_known' } });
    const restock = "INSERT INTO restocks (restock_id, product_id, quantity) VALUES ('00000000-0000-4000-8000-0000000000d1', 7, 5)";
    await db.sequelize.query(restock);
    await expect(db.sequelize.query(restock)).rejects.toMatchObject({ parent: { constraint: 'restocks_pkey' } });
    await expect(db.sequelize.query("INSERT INTO restocks (restock_id, product_id, quantity) VALUES ('00000000-0000-4000-8000-0000000000d2', 7, 0)")).rejects.toThrow(/restocks_quantity_positive/);

    // Down: an order in a status the old constraint does not know goes back to pending.
    expect(await rollback(db.sequelize, silentLogger, { to: '0011-order-flow' })).toEqual(['0014-outbox-payload-compression', '0013-dead-letter-replays', '0012-outbox-framed-rows', '0011-order-flow']);
    const [row] = await db.sequelize.query(`SELECT status FROM orders WHERE id = '${order}'`, { type: QueryTypes.SELECT });
    expect(row).toEqual({ status: 'pending' });
    await migrate(db.sequelize, silentLogger);
  });

  it('store an order for an unknown product (no FK), so the processor can reject it', async () => {
    await db.sequelize.query(
      "INSERT INTO orders (id, product_id, quantity, source_id, source_seq) VALUES ('00000000-0000-4000-8000-000000000001', 424242, 1, 's', 1)",
    );
    await expect(
      db.sequelize.query("INSERT INTO orders (id, product_id, quantity, source_id, source_seq) VALUES ('00000000-0000-4000-8000-000000000002', 1, 0, 's', 2)"),
    ).rejects.toThrow(/orders_quantity_positive/);
    await expect(
      db.sequelize.query("UPDATE orders SET status = 'lost' WHERE id = '00000000-0000-4000-8000-000000000001'"),
    ).rejects.toThrow(/orders_status_known/);
  });

  it('count the records of an outbox row (one unless told), and refuse to roll back over unpublished rows of several', async () => {
    const insert = (eventId: string, recordCount?: number) =>
      db.sequelize.query(
        `INSERT INTO outbox (event_id, topic, payload${recordCount === undefined ? '' : ', record_count'}) VALUES ('${eventId}', 't', '\\x00'${recordCount === undefined ? '' : `, ${recordCount}`})`,
      );
    await insert('one');
    await expect(insert('none', 0)).rejects.toThrow(/outbox_record_count_positive/);
    await insert('several', 3);
    const counts = await db.sequelize.query('SELECT event_id, record_count FROM outbox ORDER BY id', { type: QueryTypes.SELECT });
    expect(counts).toEqual([
      { event_id: 'one', record_count: 1 },
      { event_id: 'several', record_count: 3 },
    ]);
    expect(await rollback(db.sequelize, silentLogger, { to: '0013-dead-letter-replays' })).toEqual(['0014-outbox-payload-compression', '0013-dead-letter-replays']);
    await expect(rollback(db.sequelize, silentLogger)).rejects.toThrow(/publish them before rolling back/);
    await db.sequelize.query("UPDATE outbox SET published_at = now() WHERE event_id = 'several'");
    expect(await rollback(db.sequelize, silentLogger)).toEqual(['0012-outbox-framed-rows']);
    const kept = await db.sequelize.query('SELECT event_id FROM outbox', { type: QueryTypes.SELECT });
    expect(kept).toEqual([{ event_id: 'one' }]);
    await migrate(db.sequelize, silentLogger);
    await db.sequelize.query('TRUNCATE outbox');
  });

  it('record a dead letter replayed once per topic, partition and offset', async () => {
    const insert = (topic: string, partition: number, offset: string) =>
      db.sequelize.query(`INSERT INTO dead_letter_replays (dlq_topic, dlq_partition, dlq_offset) VALUES ('${topic}', ${partition}, ${offset}) ON CONFLICT DO NOTHING RETURNING dlq_offset`, { type: QueryTypes.SELECT });
    expect(await insert('orders.dlq', 0, '9223372036854775807')).toHaveLength(1);
    expect(await insert('orders.dlq', 0, '9223372036854775807')).toHaveLength(0);
    expect(await insert('orders.dlq', 1, '9223372036854775807')).toHaveLength(1);
    expect(await insert('other.dlq', 0, '9223372036854775807')).toHaveLength(1);
    expect(await indexes(db.sequelize, 'dead_letter_replays')).toEqual(['dead_letter_replays_pkey']);
    await db.sequelize.query('TRUNCATE dead_letter_replays');
  });

  it('compress outbox payloads with lz4, and go back to the default on the way down', async () => {
    const compression = async () => {
      const rows = await db.sequelize.query<{ method: string }>(
        "SELECT attcompression AS method FROM pg_attribute WHERE attrelid = 'outbox'::regclass AND attname = 'payload'",
        { type: QueryTypes.SELECT },
      );
      return rows[0]?.method;
    };
    // 'l' is lz4; '' the server's default_toast_compression (pglz unless set).
    expect(await compression()).toBe('l');
    await rollback(db.sequelize, silentLogger, { to: '0014-outbox-payload-compression' });
    expect(await compression()).toBe('');
    await migrate(db.sequelize, silentLogger);
    expect(await compression()).toBe('l');
  });
});
