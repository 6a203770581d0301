import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import { FencedError } from '../../../core/errors.ts';
import { claimPartitions, commitOffset, readOffsets, releasePartitions } from '../../../state/offset-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor } from '../../support/kafka.ts';

describe('offset store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('offsets');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const backendsWaitingOnLocks = async () => {
    const [row] = await db.sequelize.query<{ waiting: string }>(
      "SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      { type: QueryTypes.SELECT },
    );
    return Number(row?.waiting);
  };

  const commit = (group: string, epoch: bigint, expectedNextOffset: bigint, nextOffset: bigint) =>
    db.sequelize.transaction((transaction) => commitOffset(transaction, { group, topic: 'orders', partition: 0, epoch, expectedNextOffset, nextOffset }));

  it('creates missing rows at the default offset and bumps the epoch on every claim', async () => {
    const first = await claimPartitions(db.sequelize, 'g-claim', 'replica-a', [
      { topic: 'orders', partition: 1 },
      { topic: 'orders', partition: 0 },
    ], 5n);
    expect(first).toEqual([
      { topic: 'orders', partition: 0, nextOffset: 5n, epoch: 1n },
      { topic: 'orders', partition: 1, nextOffset: 5n, epoch: 1n },
    ]);
    const second = await claimPartitions(db.sequelize, 'g-claim', 'replica-b', [{ topic: 'orders', partition: 0 }], 99n);
    expect(second).toEqual([{ topic: 'orders', partition: 0, nextOffset: 5n, epoch: 2n }]);
    const stored = await readOffsets(db.sequelize, 'g-claim', 'orders');
    expect(stored.map(({ partition, epoch, owner }) => ({ partition, epoch, owner }))).toEqual([
      { partition: 0, epoch: 2n, owner: 'replica-b' },
      { partition: 1, epoch: 1n, owner: 'replica-a' },
    ]);
  });

  it('commits with the current epoch and expected offset', async () => {
    const [claim] = await claimPartitions(db.sequelize, 'g-commit', 'replica-a', [{ topic: 'orders', partition: 0 }]);
    await commit('g-commit', claim!.epoch, 0n, 10n);
    await commit('g-commit', claim!.epoch, 10n, 25n);
    expect((await readOffsets(db.sequelize, 'g-commit'))[0]?.nextOffset).toBe(25n);
  });

  it('fences a replica whose epoch is stale, and rolls back its whole transaction', async () => {
    const [old] = await claimPartitions(db.sequelize, 'g-fence', 'replica-a', [{ topic: 'orders', partition: 0 }]);
    await claimPartitions(db.sequelize, 'g-fence', 'replica-b', [{ topic: 'orders', partition: 0 }]);
    const attempt = db.sequelize.transaction(async (transaction) => {
      await db.sequelize.query("INSERT INTO products (id, name, price) VALUES (77, 'written by a zombie', 1)", { transaction });
      await commitOffset(transaction, { group: 'g-fence', topic: 'orders', partition: 0, epoch: old!.epoch, expectedNextOffset: 0n, nextOffset: 50n });
    });
    await expect(attempt).rejects.toThrow(FencedError);
    await expect(attempt).rejects.toThrow(/epoch 1 is stale: now 2, owned by replica-b/);
    const [row] = await readOffsets(db.sequelize, 'g-fence');
    expect(row).toMatchObject({ nextOffset: 0n, epoch: 2n });
    const [products] = await db.sequelize.query('SELECT 1 FROM products WHERE id = 77');
    expect(products).toHaveLength(0);
  });

  it('fences a commit whose expected offset is not the stored one', async () => {
    const [claim] = await claimPartitions(db.sequelize, 'g-expected', 'replica-a', [{ topic: 'orders', partition: 0 }], 100n);
    await expect(commit('g-expected', claim!.epoch, 90n, 120n)).rejects.toThrow(/expected next offset 90 but the stored one is 100/);
    expect((await readOffsets(db.sequelize, 'g-expected'))[0]?.nextOffset).toBe(100n);
  });

  it('fences a commit for a partition that was never claimed', async () => {
    await expect(commit('g-never', 1n, 0n, 1n)).rejects.toThrow(FencedError);
    expect(await readOffsets(db.sequelize, 'g-never')).toEqual([]);
  });

  it('waits for the old owner\'s in-flight commit and resumes from the offset it committed', async () => {
    const [old] = await claimPartitions(db.sequelize, 'g-race', 'replica-a', [{ topic: 'orders', partition: 0 }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The old owner has written its offset and not yet committed when the partition moves.
    let written = false;
    const inFlight = db.sequelize.transaction(async (transaction) => {
      await commitOffset(transaction, { group: 'g-race', topic: 'orders', partition: 0, epoch: old!.epoch, expectedNextOffset: 0n, nextOffset: 10n });
      written = true;
      await gate;
    });
    await waitFor(() => written, { message: 'the old owner to write its offset' });
    const claim = claimPartitions(db.sequelize, 'g-race', 'replica-b', [{ topic: 'orders', partition: 0 }]);
    await waitFor(async () => (await backendsWaitingOnLocks()) > 0, { message: 'the claim to wait on the row lock' });
    release();
    await inFlight;
    expect(await claim).toEqual([{ topic: 'orders', partition: 0, nextOffset: 10n, epoch: old!.epoch + 1n }]);
  });

  it('serialises overlapping claims without deadlock and with distinct epochs', async () => {
    const partitions = Array.from({ length: 12 }, (_, partition) => ({ topic: 'orders', partition }));
    const claims = await Promise.all([
      claimPartitions(db.sequelize, 'g-overlap', 'a', partitions),
      claimPartitions(db.sequelize, 'g-overlap', 'b', [...partitions].reverse()),
      claimPartitions(db.sequelize, 'g-overlap', 'c', partitions.slice(4)),
    ]);
    const epochsOfPartition5 = claims.map((claim) => claim.find((tp) => tp.partition === 5)!.epoch).sort();
    expect(epochsOfPartition5).toEqual([1n, 2n, 3n]);
  });

  it('releases a claim only while it is current: a later owner\'s claim is left alone, and the epoch never goes down', async () => {
    const [late] = await claimPartitions(db.sequelize, 'g-release', 'replica-a', [{ topic: 'orders', partition: 0 }]);
    await claimPartitions(db.sequelize, 'g-release', 'replica-b', [{ topic: 'orders', partition: 1 }]);
    await releasePartitions(db.sequelize, 'g-release', 'replica-a', [late!]);
    expect((await readOffsets(db.sequelize, 'g-release')).map(({ partition, epoch, owner }) => ({ partition, epoch, owner }))).toEqual([
      { partition: 0, epoch: 1n, owner: null },
      { partition: 1, epoch: 1n, owner: 'replica-b' },
    ]);

    // replica-b claimed partition 0 after replica-a's claim: replica-a's release must not clear it.
    const [stale] = await claimPartitions(db.sequelize, 'g-release', 'replica-a', [{ topic: 'orders', partition: 0 }]);
    await claimPartitions(db.sequelize, 'g-release', 'replica-b', [{ topic: 'orders', partition: 0 }]);
    await releasePartitions(db.sequelize, 'g-release', 'replica-a', [stale!]);
    const [row] = await readOffsets(db.sequelize, 'g-release');
    expect(row).toMatchObject({ partition: 0, epoch: 3n, owner: 'replica-b' });
  });
});
