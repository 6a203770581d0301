/**
 * One suite, two backends: the PostgreSQL table store (state/table-store.ts, on a real
 * database) and its in-memory twin (topology/testing/memory-store.ts) must behave the same for
 * every case: load, restore only the partition's rows, upsert, update-only refusing to create,
 * delete, a stale before-image reported with its keys, a failed fence writing nothing, jsonb
 * fields, and a read-only store (on PostgreSQL a real VIEW) refusing every change.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { StoreChange } from '../../../core/batch.ts';
import { StaleStateError } from '../../../core/errors.ts';
import { CreateRefusedError, type TableStoreSpec } from '../../../core/store-table.ts';
import { selectRows } from '../../../state/sql.ts';
import { tableStore } from '../../../state/table-store.ts';
import { MemoryStore } from '../../../topology/testing/memory-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

interface Item {
  amount: number;
  version: number;
  label?: string;
  /** jsonb: an object with nested values. */
  details?: { colour: string; size: { width: number; height: number }; note?: string | null };
  /** jsonb: an array. */
  tags?: string[];
}

const ITEMS_DDL = `CREATE TABLE items (
  id         TEXT PRIMARY KEY,
  amount     INTEGER NOT NULL CONSTRAINT items_amount_non_negative CHECK (amount >= 0),
  version    BIGINT NOT NULL,
  label      TEXT,
  details    JSONB,
  tags       JSONB,
  partition  INTEGER,
  touched_at TIMESTAMPTZ
)`;

const COLUMNS = {
  amount: { column: 'amount', type: 'integer' },
  version: { column: 'version', type: 'bigint' },
  label: { column: 'label', type: 'text' },
  details: { column: 'details', type: 'jsonb' },
  tags: { column: 'tags', type: 'jsonb' },
} as const;

const UPSERT: TableStoreSpec<string, Item> = {
  name: 'items',
  table: { table: 'items', key: { column: 'id', type: 'text' }, value: COLUMNS, partitionColumn: 'partition', writes: 'upsert', touch: { touched_at: 'now()' } },
};
const UPDATE_ONLY: TableStoreSpec<string, Item> = {
  name: 'item-updates',
  table: { table: 'items', key: { column: 'id', type: 'text' }, value: COLUMNS, writes: 'update', touch: { touched_at: 'now()' } },
};

/** A backend under test, holding an empty `items` table. */
interface Backend {
  load(keys: string[]): Promise<Map<string, Item>>;
  restore: ((partition: number) => Promise<Array<[string, Item]>>) | undefined;
  /** Commits the changes as a batch of `partition`; `fenced`: the batch's offset fence failed. */
  commit(changes: StoreChange<string, Item>[], options?: { partition?: number; fenced?: boolean }): Promise<void>;
  /** Another writer's write (an operator's edit, a row created elsewhere): the partition column stays as it is. */
  writeByHand(key: string, value: Item): Promise<void>;
  contents(): Promise<Map<string, Item>>;
}

/** What the read-only store reads: an item's parts, summed and counted (on PostgreSQL a view over a join). */
interface Total {
  amount: number;
  parts: number;
}

const TOTALS: TableStoreSpec<string, Total> = {
  name: 'item-totals',
  table: { table: 'item_totals', key: { column: 'id', type: 'text' }, value: { amount: { column: 'amount', type: 'integer' }, parts: { column: 'parts', type: 'bigint' } }, writes: 'none' },
};

/** A read-only backend under test, over no parts yet. */
interface ReadOnlyBackend {
  load(keys: string[]): Promise<Map<string, Total>>;
  commit(changes: StoreChange<string, Total>[]): Promise<void>;
  /** Someone else adds a part to an item (what the view aggregates). */
  addPart(item: string, amount: number): Promise<void>;
}

interface Harness {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  open(spec: TableStoreSpec<string, Item>): Promise<Backend>;
  openReadOnly(): Promise<ReadOnlyBackend>;
}

/** On PostgreSQL an aggregate over a join: not a table a store could write, had it tried. */
const TOTALS_DDL = [
  'DROP VIEW IF EXISTS item_totals',
  'DROP TABLE IF EXISTS parts',
  'CREATE TABLE parts (id SERIAL PRIMARY KEY, item TEXT NOT NULL, amount INTEGER NOT NULL)',
  `CREATE VIEW item_totals AS
     SELECT i.id, sum(p.amount)::int AS amount, count(*) AS parts FROM items i JOIN parts p ON p.item = i.id GROUP BY i.id`,
];

function postgresHarness(): Harness & { db(): TestDatabase } {
  let db: TestDatabase;
  return {
    name: 'PostgreSQL table store',
    db: () => db,
    async setUp() {
      db = await createTestDatabase('store_conformance', { migrate: false });
    },
    async tearDown() {
      await db?.drop();
    },
    async open(spec) {
      await db.sequelize.query('DROP VIEW IF EXISTS item_totals');
      await db.sequelize.query('DROP TABLE IF EXISTS items');
      await db.sequelize.query(ITEMS_DDL);
      const store = tableStore(db.sequelize, spec);
      return {
        load: (keys) => store.load(keys),
        restore: store.restore && (async (partition) => store.restore!({ partition })),
        async commit(changes, { partition = 0, fenced = false } = {}) {
          await db.sequelize.transaction(async (transaction) => {
            const write = store.writeStatement(changes, { guard: fenced ? 'false' : 'true', partition });
            const [row] = await selectRows<{ result: unknown }>(transaction, `WITH ${write.ctes.join(',\n')} SELECT ${write.result} AS result`, write.bind);
            // As the sink does: a failed fence is reported as such, before any stale check.
            if (!fenced) write.check(row!.result);
          });
        },
        async writeByHand(key, value) {
          await db.sequelize.query(
            `INSERT INTO items (id, amount, version, label, details, tags) VALUES ($key, $amount, $version, $label, $details::jsonb, $tags::jsonb)
             ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, version = EXCLUDED.version, label = EXCLUDED.label, details = EXCLUDED.details, tags = EXCLUDED.tags`,
            {
              bind: {
                key,
                amount: value.amount,
                version: value.version,
                label: value.label ?? null,
                details: value.details === undefined ? null : JSON.stringify(value.details),
                tags: value.tags === undefined ? null : JSON.stringify(value.tags),
              },
            },
          );
        },
        async contents() {
          const rows = await selectRows<{ id: string; amount: number; version: string; label: string | null; details: Item['details'] | null; tags: string[] | null }>(
            db.sequelize,
            'SELECT id, amount, version, label, details, tags FROM items ORDER BY id',
          );
          return new Map(
            rows.map((row) => [
              row.id,
              {
                amount: row.amount,
                version: Number(row.version),
                ...(row.label === null ? {} : { label: row.label }),
                ...(row.details === null ? {} : { details: row.details }),
                ...(row.tags === null ? {} : { tags: row.tags }),
              },
            ]),
          );
        },
      };
    },
    async openReadOnly() {
      await this.open(UPSERT);
      for (const statement of TOTALS_DDL) await db.sequelize.query(statement);
      const store = tableStore(db.sequelize, TOTALS);
      return {
        load: (keys) => store.load(keys),
        async commit(changes) {
          await db.sequelize.transaction(async (transaction) => {
            const write = store.writeStatement(changes, { guard: 'true', partition: 0 });
            const [row] = await selectRows<{ result: unknown }>(transaction, `${write.ctes.length > 0 ? `WITH ${write.ctes.join(',\n')} ` : ''}SELECT ${write.result} AS result`, write.bind);
            write.check(row!.result);
          });
        },
        async addPart(item, amount) {
          await db.sequelize.query("INSERT INTO items (id, amount, version) VALUES ($item, 0, 0) ON CONFLICT (id) DO NOTHING", { bind: { item } });
          await db.sequelize.query('INSERT INTO parts (item, amount) VALUES ($item, $amount)', { bind: { item, amount } });
        },
      };
    },
  };
}

function memoryHarness(): Harness {
  return {
    name: 'in-memory twin',
    setUp: async () => {},
    tearDown: async () => {},
    async open(spec) {
      const store = new MemoryStore(spec);
      return {
        load: (keys) => store.load(keys),
        restore: store.restore && ((partition) => store.restore!({ topic: 'items-topic', partition })),
        async commit(changes, { partition = 0, fenced = false } = {}) {
          store.prepare(changes, { guard: !fenced, partition })();
        },
        async writeByHand(key, value) {
          store.write(key, value);
        },
        contents: async () => new Map([...store.contents].sort(([a], [b]) => (a < b ? -1 : 1))),
      };
    },
    async openReadOnly() {
      const store = new MemoryStore(TOTALS);
      return {
        load: (keys) => store.load(keys),
        async commit(changes) {
          store.prepare(changes, { guard: true, partition: 0 })();
        },
        async addPart(item, amount) {
          const total = store.contents.get(item) ?? { amount: 0, parts: 0 };
          store.write(item, { amount: total.amount + amount, parts: total.parts + 1 });
        },
      };
    },
  };
}

const postgres = postgresHarness();

describe.each([postgres, memoryHarness()])('state store conformance: $name', (harness) => {
  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  let store: Backend;
  beforeEach(async () => {
    store = await harness.open(UPSERT);
  });

  it('loads the present keys only, however often a key is asked for', async () => {
    await store.writeByHand('a', { amount: 1, version: 0 });
    await store.writeByHand('b', { amount: 2, version: 3, label: 'two' });
    const loaded = await store.load(['b', 'a', 'missing', 'b']);
    expect([...loaded].sort()).toEqual([
      ['a', { amount: 1, version: 0 }],
      ['b', { amount: 2, version: 3, label: 'two' }],
    ]);
    expect(await store.load([])).toEqual(new Map());
  });

  it('restores only the rows its partition wrote; a row nobody wrote is found by load', async () => {
    await store.commit([{ key: 'p0', before: undefined, after: { amount: 1, version: 1 } }], { partition: 0 });
    await store.commit([{ key: 'p1', before: undefined, after: { amount: 2, version: 1 } }], { partition: 1 });
    await store.writeByHand('by-hand', { amount: 3, version: 0 });
    expect(await store.restore!(0)).toEqual([['p0', { amount: 1, version: 1 }]]);
    expect(await store.restore!(1)).toEqual([['p1', { amount: 2, version: 1 }]]);
    expect(await store.load(['by-hand'])).toEqual(new Map([['by-hand', { amount: 3, version: 0 }]]));
    // An update moves the row to the partition that wrote it last.
    await store.commit([{ key: 'p0', before: { amount: 1, version: 1 }, after: { amount: 0, version: 2 } }], { partition: 1 });
    expect(await store.restore!(0)).toEqual([]);
    expect((await store.restore!(1)).map(([key]) => key).sort()).toEqual(['p0', 'p1']);
  });

  it('upserts: creates absent rows and updates present ones in one commit', async () => {
    await store.writeByHand('kept', { amount: 9, version: 0 });
    await store.writeByHand('updated', { amount: 2, version: 0 });
    await store.commit([
      { key: 'updated', before: { amount: 2, version: 0 }, after: { amount: 0, version: 1, label: 'sold out' } },
      { key: 'created', before: undefined, after: { amount: 5, version: 1 } },
    ]);
    expect(await store.contents()).toEqual(
      new Map([
        ['created', { amount: 5, version: 1 }],
        ['kept', { amount: 9, version: 0 }],
        ['updated', { amount: 0, version: 1, label: 'sold out' }],
      ]),
    );
  });

  it('keeps only the mapped fields, and reads a NULL column as a field left out', async () => {
    const extra = { amount: 1, version: 1, label: undefined, colour: 'red' } as Item;
    await store.commit([{ key: 'a', before: undefined, after: extra }]);
    expect(await store.load(['a'])).toEqual(new Map([['a', { amount: 1, version: 1 }]]));
    // A before-image with the field undefined matches the NULL column.
    await store.commit([{ key: 'a', before: { amount: 1, version: 1, label: undefined }, after: { amount: 2, version: 2 } }]);
    expect((await store.contents()).get('a')).toEqual({ amount: 2, version: 2 });
  });

  describe('jsonb fields (an object, an array)', () => {
    const details = { colour: 'red', size: { width: 2, height: 3 } };

    it('inserts and loads them as JSON values, an array kept as one value, undefined as NULL', async () => {
      await store.commit([
        { key: 'a', before: undefined, after: { amount: 1, version: 1, details, tags: ['x', 'y "quoted"', '{braced}'] } },
        { key: 'b', before: undefined, after: { amount: 1, version: 1, details: undefined, tags: [] } },
      ]);
      expect(await store.load(['a', 'b'])).toEqual(
        new Map([
          ['a', { amount: 1, version: 1, details, tags: ['x', 'y "quoted"', '{braced}'] }],
          ['b', { amount: 1, version: 1, tags: [] }],
        ]),
      );
      expect(await store.contents()).toEqual(await store.load(['a', 'b']));
    });

    it('updates where the JSON is as the batch read it, whatever its key order: a value left as it was, and a nested value changed', async () => {
      await store.writeByHand('kept', { amount: 5, version: 0, details, tags: ['x'] });
      await store.writeByHand('changed', { amount: 5, version: 0, details, tags: ['x'] });
      const sameDetailsOtherOrder = { size: { height: 3, width: 2 }, colour: 'red' };
      const wider = { ...details, size: { width: 9, height: 3 } };
      await store.commit([
        { key: 'kept', before: { amount: 5, version: 0, details: sameDetailsOtherOrder, tags: ['x'] }, after: { amount: 4, version: 1, details: sameDetailsOtherOrder, tags: ['x'] } },
        { key: 'changed', before: { amount: 5, version: 0, details, tags: ['x'] }, after: { amount: 5, version: 1, details: wider, tags: ['x', 'y'] } },
      ]);
      expect(await store.contents()).toEqual(
        new Map([
          ['changed', { amount: 5, version: 1, details: wider, tags: ['x', 'y'] }],
          ['kept', { amount: 4, version: 1, details, tags: ['x'] }],
        ]),
      );
      // A nested field left undefined is no field at all in JSON: the same value.
      await store.commit([{ key: 'kept', before: { amount: 4, version: 1, details: { ...details, note: undefined }, tags: ['x'] }, after: { amount: 3, version: 2, details, tags: ['x'] } }]);
      expect((await store.contents()).get('kept')).toEqual({ amount: 3, version: 2, details, tags: ['x'] });
    });

    it('reports a stale before-image when a nested value changed since the batch read it, and writes nothing of the batch', async () => {
      await store.writeByHand('fresh', { amount: 1, version: 0, details });
      await store.writeByHand('edited', { amount: 1, version: 0, details, tags: ['x', 'y'] });
      // An operator changes a nested value, then the order of an array: neither is what the batch read.
      await store.writeByHand('edited', { amount: 1, version: 0, details: { ...details, size: { width: 2, height: 4 } }, tags: ['x', 'y'] });
      await store.writeByHand('reordered', { amount: 1, version: 0, details, tags: ['y', 'x'] });
      const before = await store.contents();
      const commit = store.commit([
        { key: 'fresh', before: { amount: 1, version: 0, details }, after: { amount: 0, version: 1, details } },
        { key: 'edited', before: { amount: 1, version: 0, details, tags: ['x', 'y'] }, after: { amount: 0, version: 1, details, tags: ['x', 'y'] } },
        { key: 'reordered', before: { amount: 1, version: 0, details, tags: ['x', 'y'] }, after: { amount: 0, version: 1, details, tags: ['x', 'y'] } },
      ]);
      await expect(commit).rejects.toBeInstanceOf(StaleStateError);
      await expect(commit).rejects.toMatchObject({ store: 'items', keys: ['edited', 'reordered'] });
      expect(await store.contents()).toEqual(before);
    });

    it('reports a before-image with a JSON value where the row holds NULL as stale, and one that left it out as current', async () => {
      await store.writeByHand('plain', { amount: 1, version: 0 });
      await expect(store.commit([{ key: 'plain', before: { amount: 1, version: 0, details }, after: { amount: 0, version: 1 } }])).rejects.toMatchObject({ keys: ['plain'] });
      await store.commit([{ key: 'plain', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1, details } }]);
      expect((await store.contents()).get('plain')).toEqual({ amount: 0, version: 1, details });
    });
  });

  it('deletes a row that still holds what the batch read, and refuses one that changed', async () => {
    await store.writeByHand('a', { amount: 1, version: 1 });
    await store.writeByHand('b', { amount: 2, version: 1 });
    await store.commit([{ key: 'a', before: { amount: 1, version: 1 }, after: undefined }]);
    await store.writeByHand('b', { amount: 7, version: 1 });
    await expect(store.commit([{ key: 'b', before: { amount: 2, version: 1 }, after: undefined }])).rejects.toMatchObject({ store: 'items', keys: ['b'] });
    expect(await store.contents()).toEqual(new Map([['b', { amount: 7, version: 1 }]]));
  });

  it('reports a stale before-image with exactly the stale keys, and writes nothing of the batch', async () => {
    await store.writeByHand('fresh', { amount: 1, version: 0 });
    await store.writeByHand('edited', { amount: 1, version: 0 });
    // An operator restocks after the batch read the row: the version stays, the amount does not.
    await store.writeByHand('edited', { amount: 50, version: 0 });
    const before = await store.contents();
    const commit = store.commit([
      { key: 'fresh', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
      { key: 'edited', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
      { key: 'new', before: undefined, after: { amount: 3, version: 1 } },
    ]);
    await expect(commit).rejects.toBeInstanceOf(StaleStateError);
    await expect(commit).rejects.toMatchObject({ code: 'STALE_STATE', retriable: true, store: 'items', keys: ['edited'] });
    await expect(commit).rejects.toThrow(/store "items": key edited changed in items since the batch read it/);
    expect(await store.contents()).toEqual(before);
  });

  it('reports as stale an insert of a row that appeared, and an update of a row that went (never re-creating it)', async () => {
    await store.writeByHand('appeared', { amount: 4, version: 0 });
    await expect(store.commit([{ key: 'appeared', before: undefined, after: { amount: 1, version: 1 } }])).rejects.toMatchObject({ keys: ['appeared'] });
    await expect(store.commit([{ key: 'gone', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } }])).rejects.toMatchObject({ keys: ['gone'] });
    expect(await store.contents()).toEqual(new Map([['appeared', { amount: 4, version: 0 }]]));
  });

  it('writes nothing when the fence failed, stale or not', async () => {
    await store.writeByHand('a', { amount: 1, version: 0 });
    await store.commit(
      [
        { key: 'a', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
        { key: 'b', before: undefined, after: { amount: 1, version: 1 } },
        { key: 'c', before: { amount: 5, version: 5 }, after: undefined },
      ],
      { fenced: true },
    );
    expect(await store.contents()).toEqual(new Map([['a', { amount: 1, version: 0 }]]));
  });

  it('refuses a key given twice in one batch, and does nothing for an empty one', async () => {
    const twice = store.commit([
      { key: 'a', before: undefined, after: { amount: 1, version: 1 } },
      { key: 'a', before: undefined, after: { amount: 2, version: 1 } },
    ]);
    await expect(twice).rejects.toThrow(RangeError);
    await store.commit([]);
    expect(await store.contents()).toEqual(new Map());
  });

  describe('read-only (writes: none)', () => {
    let totals: ReadOnlyBackend;
    beforeEach(async () => {
      totals = await harness.openReadOnly();
    });

    it('loads what its table shows, an aggregate kept by someone else', async () => {
      await totals.addPart('a', 2);
      await totals.addPart('a', 3);
      await totals.addPart('b', 1);
      expect(await totals.load(['a', 'b', 'missing'])).toEqual(
        new Map([
          ['a', { amount: 5, parts: 2 }],
          ['b', { amount: 1, parts: 1 }],
        ]),
      );
      await totals.addPart('b', 4);
      expect(await totals.load(['b'])).toEqual(new Map([['b', { amount: 5, parts: 2 }]]));
    });

    it('commits a batch that leaves it alone, and refuses one that changes it with a TypeError naming the store and the keys', async () => {
      await totals.addPart('a', 2);
      await totals.commit([]);
      const commit = totals.commit([
        { key: 'a', before: { amount: 2, parts: 1 }, after: { amount: 0, parts: 1 } },
        { key: 'new', before: undefined, after: { amount: 1, parts: 1 } },
        { key: 'gone', before: { amount: 1, parts: 1 }, after: undefined },
      ]);
      await expect(commit).rejects.toBeInstanceOf(TypeError);
      await expect(commit).rejects.toThrow(`store "item-totals" is read-only (writes: 'none'), but the batch changes 3 keys a, new, gone: its processors may only read it`);
      expect(await totals.load(['a', 'new'])).toEqual(new Map([['a', { amount: 2, parts: 1 }]]));
    });
  });

  describe('update-only', () => {
    beforeEach(async () => {
      store = await harness.open(UPDATE_ONLY);
    });

    it('updates and deletes rows created by someone else, and has no restore (no partition column)', async () => {
      await store.writeByHand('a', { amount: 1, version: 0 });
      await store.writeByHand('b', { amount: 1, version: 0 });
      await store.commit([
        { key: 'a', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1, label: 'decided' } },
        { key: 'b', before: { amount: 1, version: 0 }, after: undefined },
      ]);
      expect(await store.contents()).toEqual(new Map([['a', { amount: 0, version: 1, label: 'decided' }]]));
      expect(store.restore).toBeUndefined();
    });

    it('refuses to create a row, writing nothing of the batch', async () => {
      await store.writeByHand('a', { amount: 1, version: 0 });
      const commit = store.commit([
        { key: 'a', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
        { key: 'new', before: undefined, after: { amount: 1, version: 1 } },
      ]);
      await expect(commit).rejects.toBeInstanceOf(CreateRefusedError);
      await expect(commit).rejects.toMatchObject({ retriable: false, message: expect.stringMatching(/store "item-updates" only updates existing rows, but the batch creates key new/) });
      expect(await store.contents()).toEqual(new Map([['a', { amount: 1, version: 0 }]]));
    });

    it('applies a decision once: a second batch computed from the same before-image is stale', async () => {
      await store.writeByHand('order', { amount: 1, version: 0, label: 'pending' });
      const decide = (label: string): StoreChange<string, Item> => ({ key: 'order', before: { amount: 1, version: 0, label: 'pending' }, after: { amount: 1, version: 0, label } });
      await store.commit([decide('confirmed')]);
      await expect(store.commit([decide('rejected')])).rejects.toBeInstanceOf(StaleStateError);
      expect((await store.contents()).get('order')).toEqual({ amount: 1, version: 0, label: 'confirmed' });
    });
  });
});

describe('PostgreSQL table store: what only the database shows', () => {
  beforeAll(() => postgres.setUp());
  afterAll(() => postgres.tearDown());
  const rows = () =>
    selectRows<{ id: string; partition: number | null; touched: boolean }>(postgres.db().sequelize, 'SELECT id, partition, touched_at IS NOT NULL AS touched FROM items ORDER BY id');

  it('sets the partition column and the touched columns on every write, and leaves them alone on a hand edit', async () => {
    const store = await postgres.open(UPSERT);
    await store.writeByHand('by-hand', { amount: 1, version: 0 });
    await store.writeByHand('updated', { amount: 1, version: 0 });
    await store.commit(
      [
        { key: 'updated', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
        { key: 'created', before: undefined, after: { amount: 1, version: 1 } },
      ],
      { partition: 7 },
    );
    expect(await rows()).toEqual([
      { id: 'by-hand', partition: null, touched: false },
      { id: 'created', partition: 7, touched: true },
      { id: 'updated', partition: 7, touched: true },
    ]);
  });

  it('lets a CHECK refuse the batch as a whole (the database error, not stale state), writing nothing', async () => {
    const store = await postgres.open(UPSERT);
    await store.writeByHand('a', { amount: 1, version: 0 });
    await store.writeByHand('b', { amount: 2, version: 0 });
    const overdraw = store.commit([
      { key: 'a', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } },
      { key: 'b', before: { amount: 2, version: 0 }, after: { amount: -1, version: 1 } },
    ]);
    await expect(overdraw).rejects.toThrow(/items_amount_non_negative/);
    expect(await store.contents()).toEqual(
      new Map([
        ['a', { amount: 1, version: 0 }],
        ['b', { amount: 2, version: 0 }],
      ]),
    );
  });

  it('names its CTEs and bind parameters after the store, so two stores share one statement', async () => {
    await postgres.open(UPSERT);
    const change = [{ key: 'a', before: { amount: 1, version: 0 }, after: { amount: 0, version: 1 } }];
    const context = { guard: 'true', partition: 0 };
    const items = tableStore(postgres.db().sequelize, UPSERT).writeStatement(change, context);
    const updates = tableStore(postgres.db().sequelize, UPDATE_ONLY).writeStatement(change, context);
    expect(Object.keys(items.bind).every((name) => name.startsWith('items_'))).toBe(true);
    expect(Object.keys(updates.bind).every((name) => name.startsWith('item_updates_'))).toBe(true);
    expect(items.ctes.every((cte) => cte.startsWith('items_'))).toBe(true);
    expect(updates.ctes.every((cte) => cte.startsWith('item_updates_'))).toBe(true);
  });

  it('leaves a read-only store out of the commit statement: no CTE, no bind parameter', async () => {
    await postgres.open(UPSERT);
    const write = tableStore(postgres.db().sequelize, TOTALS).writeStatement([], { guard: 'true', partition: 0 });
    expect(write).toMatchObject({ ctes: [], bind: {} });
  });

  it('refuses a declaration that maps one column twice', () => {
    const twice: TableStoreSpec<string, Item> = { ...UPSERT, table: { ...UPSERT.table, partitionColumn: 'version' } };
    expect(() => tableStore(postgres.db().sequelize, twice)).toThrow(/column version of items is mapped twice/);
  });
});
