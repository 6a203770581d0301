import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  appendOutbox,
  countParked,
  countUnpublished,
  deletePublishedBefore,
  fetchUnpublished,
  listParked,
  markPublished,
  type OutboxMessage,
  parkRecords,
  parkRows,
  unparkRows,
} from '../../../state/outbox-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

function message(eventId: string): OutboxMessage {
  return {
    eventId,
    topic: 'inventory-updated',
    key: eventId.split(':')[0] ?? null,
    payload: Buffer.from(JSON.stringify({ eventId, quantity: 1 })),
    headers: { 'event-type': 'InventoryUpdated', 'event-id': eventId, 'content-type': 'application/json' },
  };
}

describe('outbox store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('outbox');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE outbox RESTART IDENTITY');
  });

  // One row per record: these cases are about rows (ids, marks, parking), each of one record.
  const append = (messages: OutboxMessage[]) => db.sequelize.transaction((transaction) => appendOutbox(transaction, messages, 'row-per-record'));

  it('appends messages, skipping event ids it already holds', async () => {
    expect(await append([message('1:1'), message('2:1')])).toBe(2);
    expect(await append([message('2:1'), message('3:1')])).toBe(1);
    const rows = await fetchUnpublished(db.sequelize, 10);
    expect(rows.map((row) => row.eventId)).toEqual(['1:1', '2:1', '3:1']);
    expect(rows[0]).toMatchObject({ id: 1n, ...message('1:1') });
  });

  it('keeps payload bytes exactly, even bytes that are not UTF-8', async () => {
    const raw = Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x80]);
    await append([{ ...message('raw'), payload: raw }]);
    const [row] = await fetchUnpublished(db.sequelize, 1);
    expect(Buffer.compare(row!.payload, raw)).toBe(0);
  });

  it('fetches in id order up to the limit, and not again once marked published', async () => {
    await append(['a', 'b', 'c', 'd'].map(message));
    const firstPage = await fetchUnpublished(db.sequelize, 3);
    expect(firstPage.map((row) => row.eventId)).toEqual(['a', 'b', 'c']);
    expect(await markPublished(db.sequelize, firstPage.map((row) => row.id))).toBe(3);
    expect(await markPublished(db.sequelize, [firstPage[0]!.id])).toBe(0);
    expect((await fetchUnpublished(db.sequelize, 3)).map((row) => row.eventId)).toEqual(['d']);
    expect(await countUnpublished(db.sequelize)).toBe(1);
  });

  it('does not skip a row whose smaller id commits after a larger one (the relay bug)', async () => {
    let commitSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => {
      commitSlow = resolve;
    });
    let slowAppended!: () => void;
    const slowHasAppended = new Promise<void>((resolve) => {
      slowAppended = resolve;
    });
    const slow = db.sequelize.transaction(async (transaction) => {
      await appendOutbox(transaction, [message('slow')], 'row-per-record'); // takes id 1, commits later
      slowAppended();
      await slowMayCommit;
    });
    await slowHasAppended;
    await append([message('fast')]); // takes id 2, commits first

    const seen = await fetchUnpublished(db.sequelize, 10);
    expect(seen.map((row) => [row.id, row.eventId])).toEqual([[2n, 'fast']]);
    await markPublished(db.sequelize, seen.map((row) => row.id));

    commitSlow();
    await slow;
    expect((await fetchUnpublished(db.sequelize, 10)).map((row) => [row.id, row.eventId])).toEqual([[1n, 'slow']]);
  });

  it('deletes only published rows older than the cut-off', async () => {
    await append(['old', 'pending'].map(message));
    const [old] = await fetchUnpublished(db.sequelize, 1);
    await markPublished(db.sequelize, [old!.id]);
    expect(await deletePublishedBefore(db.sequelize, new Date(Date.now() - 60_000))).toBe(0);
    expect(await deletePublishedBefore(db.sequelize, new Date(Date.now() + 60_000))).toBe(1);
    expect((await fetchUnpublished(db.sequelize, 10)).map((row) => row.eventId)).toEqual(['pending']);
  });

  it('bounds a page by payload bytes, always returning its first row however large', async () => {
    await append(['a', 'b', 'c', 'd'].map((id, i) => ({ ...message(id), payload: Buffer.alloc(i === 0 ? 5000 : 1000) })));
    expect((await fetchUnpublished(db.sequelize, 10, [], 100)).map((row) => row.eventId)).toEqual(['a']);
    expect((await fetchUnpublished(db.sequelize, 10, [], 6500)).map((row) => row.eventId)).toEqual(['a', 'b', 'c']);
    expect((await fetchUnpublished(db.sequelize, 10, [1n], 1500)).map((row) => row.eventId)).toEqual(['b', 'c']);
  });

  it('parks rows with their error: fetches skip them, they are listed and counted, and unparking makes them pending again', async () => {
    await append(['a', 'b', 'c', 'd'].map(message));
    expect(await parkRows(db.sequelize, [{ id: 2n, error: 'too large' }, { id: 4n, error: 'INVALID_RECORD' }])).toBe(2);
    expect(await parkRows(db.sequelize, [{ id: 2n, error: 'again' }])).toBe(0);
    expect((await fetchUnpublished(db.sequelize, 10)).map((row) => row.eventId)).toEqual(['a', 'c']);
    expect(await countParked(db.sequelize)).toBe(2);
    expect(await countUnpublished(db.sequelize)).toBe(4); // parked rows are not published either
    const parked = await listParked(db.sequelize);
    expect(parked.map(({ id, eventId, error, bytes }) => ({ id, eventId, error, bytes }))).toEqual([
      { id: 2n, eventId: 'b', error: 'too large', bytes: message('b').payload.length },
      { id: 4n, eventId: 'd', error: 'INVALID_RECORD', bytes: message('d').payload.length },
    ]);

    expect(await unparkRows(db.sequelize, [4n, 3n])).toEqual([4n]);
    expect((await fetchUnpublished(db.sequelize, 10)).map((row) => row.eventId)).toEqual(['a', 'c', 'd']);
    expect(await unparkRows(db.sequelize, 'all')).toEqual([2n]);
    expect(await countParked(db.sequelize)).toBe(0);
  });

  describe('rows of several records (one per topic per commit)', () => {
    const other = (eventId: string): OutboxMessage => ({ ...message(eventId), topic: 'orders-confirmed' });
    const appendByTopic = (messages: OutboxMessage[]) => db.sequelize.transaction((transaction) => appendOutbox(transaction, messages));

    it('writes one row per topic and reads its records back in order, each with the row id, counting records', async () => {
      expect(await appendByTopic([message('a'), other('x'), message('b'), message('c')])).toBe(4);
      const records = await fetchUnpublished(db.sequelize, 10);
      expect(records.map(({ id, eventId, topic, recordsInRow }) => ({ id, eventId, topic, recordsInRow }))).toEqual([
        { id: 1n, eventId: 'a', topic: 'inventory-updated', recordsInRow: 3 },
        { id: 1n, eventId: 'b', topic: 'inventory-updated', recordsInRow: 3 },
        { id: 1n, eventId: 'c', topic: 'inventory-updated', recordsInRow: 3 },
        { id: 2n, eventId: 'x', topic: 'orders-confirmed', recordsInRow: 1 },
      ]);
      expect(records[1]).toMatchObject(message('b'));
      expect(await countUnpublished(db.sequelize)).toBe(4);
      // The same commit again (a replay) adds nothing.
      expect(await appendByTopic([message('a'), other('x'), message('b'), message('c')])).toBe(0);
      await markPublished(db.sequelize, [1n]);
      expect(await countUnpublished(db.sequelize)).toBe(1);
    });

    it('counts the page limit in records, but never cuts a row: the first comes whole', async () => {
      await appendByTopic(['a', 'b', 'c'].map(message));
      await appendByTopic(['d', 'e'].map(message));
      await appendByTopic(['f'].map(message));
      expect((await fetchUnpublished(db.sequelize, 2)).map((record) => record.eventId)).toEqual(['a', 'b', 'c']);
      expect((await fetchUnpublished(db.sequelize, 4)).map((record) => record.eventId)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect((await fetchUnpublished(db.sequelize, 10, [1n])).map((record) => record.eventId)).toEqual(['d', 'e', 'f']);
    });

    it('parks a record of such a row as a row of its own, once, however often it is parked', async () => {
      await appendByTopic(['a', 'b', 'c'].map(message));
      const [, b] = await fetchUnpublished(db.sequelize, 10);
      expect(await parkRecords(db.sequelize, [{ record: b!, error: 'INVALID_RECORD' }])).toBe(1);
      expect(await parkRecords(db.sequelize, [{ record: b!, error: 'INVALID_RECORD' }])).toBe(0);
      const [parked] = await listParked(db.sequelize);
      expect(parked).toMatchObject({ eventId: 'b', topic: 'inventory-updated', key: 'b', error: 'INVALID_RECORD', bytes: message('b').payload.length });
      expect(await unparkRows(db.sequelize, [parked!.id])).toEqual([parked!.id]);
      const records = await fetchUnpublished(db.sequelize, 10);
      expect(records.at(-1)).toMatchObject({ ...message('b'), id: parked!.id, recordsInRow: 1 });
    });
  });
});
