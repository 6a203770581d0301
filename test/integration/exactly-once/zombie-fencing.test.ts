/**
 * A zombie replica: processor A is frozen (SIGSTOP) until the group gives its partitions to
 * B and B commits on them; then A wakes up (SIGCONT) holding records it fetched before.
 * With B still running, A's late commit must be fenced by the epoch check and change
 * nothing. With B gone, A gets its own former partitions back and must claim them afresh
 * (not stay halted). Either way the pipeline must end exact.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { seed } from '../../../state/commerce/seed.ts';
import { readOffsets, type StoredOffset } from '../../../state/offset-store.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, findOrderFlowViolations, type PipelineFixture, takeSnapshot, waitUntilCaughtUp } from '../../support/pipeline.ts';

const PRODUCTS = 20;
const STOCK = 150;
const PARTITIONS = 6;

describe('exactly-once with a zombie processor (SIGSTOP / SIGCONT)', () => {
  const fixtures: PipelineFixture[] = [];

  afterAll(async () => {
    for (const fixture of fixtures) await fixture.cleanup();
  });

  async function zombieScenario(label: string, survivorLeavesBeforeWake: boolean): Promise<void> {
    const fixture = await createPipelineFixture(label, { partitions: PARTITIONS });
    fixtures.push(fixture);
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
    const offsets = () => readOffsets(fixture.db.sequelize, fixture.names.consumerGroup, fixture.names.ordersTopic);
    const byPartition = (rows: StoredOffset[]) => new Map(rows.map((row) => [row.partition, row]));

    await fixture.diagnose(
      (async () => {
        const relay = fixture.spawnRole('relay');
        const source = fixture.spawnRole('source', { args: ['--rate', '80'] });
        // Long micro-batches: whenever it is frozen, A almost surely holds records it has not committed.
        const zombie = fixture.spawnRole('processor', { name: 'zombie-a', env: { COMMIT_INTERVAL_MS: '500' } });
        await waitFor(async () => (await offsets()).filter((row) => row.owner === 'zombie-a').length === PARTITIONS, {
          timeoutMs: 60_000,
          message: `zombie-a to claim all ${PARTITIONS} partitions`,
        });
        const survivor = fixture.spawnRole('processor', { name: 'replica-b' });
        const shared = await waitFor(
          async () => {
            const rows = await offsets();
            const owners = new Set(rows.map((row) => row.owner));
            return owners.size === 2 && owners.has('zombie-a') && owners.has('replica-b') ? rows : undefined;
          },
          { timeoutMs: 60_000, message: 'the partitions to be shared by zombie-a and replica-b' },
        );
        const zombieClaims = shared.filter((row) => row.owner === 'zombie-a');

        // Freeze A while it is busy on its partitions, so it holds work it has not committed yet.
        await waitFor(
          async () => {
            const now = byPartition(await offsets());
            return zombieClaims.some((claim) => now.get(claim.partition)!.epoch === claim.epoch && now.get(claim.partition)!.nextOffset > claim.nextOffset);
          },
          { timeoutMs: 30_000, message: 'zombie-a to commit on its partitions after the rebalance' },
        );
        zombie.signal('SIGSTOP');

        const takenOver = await waitFor(
          async () => {
            const now = byPartition(await offsets());
            const moved = zombieClaims.every((claim) => now.get(claim.partition)!.owner === 'replica-b' && now.get(claim.partition)!.epoch > claim.epoch);
            return moved ? now : undefined;
          },
          { timeoutMs: 60_000, message: "replica-b to claim zombie-a's partitions (epoch bumped)" },
        );
        const takenOverTotal = zombieClaims.reduce((sum, claim) => sum + takenOver.get(claim.partition)!.nextOffset, 0n);
        await waitFor(
          async () => {
            const now = byPartition(await offsets());
            return zombieClaims.reduce((sum, claim) => sum + now.get(claim.partition)!.nextOffset, 0n) > takenOverTotal;
          },
          { timeoutMs: 30_000, message: "replica-b to commit on zombie-a's former partitions" },
        );
        if (survivorLeavesBeforeWake) expect((await survivor.interrupt()).code).toBe(0);
        const beforeWake = byPartition(await offsets());

        zombie.signal('SIGCONT');
        if (!survivorLeavesBeforeWake) {
          // B's next heartbeat (up to a second away) is needed before A can rejoin: A's held work reaches the database first.
          const fenced = await zombie.waitForLog('partition fenced', 30_000);
          expect(zombieClaims.map((claim) => claim.partition)).toContain(fenced.partition);
          expect(String(fenced.error)).toMatch(/epoch \d+ is stale: now \d+, owned by replica-b/);
          // The fenced commit moved nothing back: every offset is where replica-b (or a later claim) put it.
          const afterFence = byPartition(await offsets());
          for (const [partition, row] of beforeWake) expect(afterFence.get(partition)!.nextOffset).toBeGreaterThanOrEqual(row.nextOffset);
        } else {
          // Alone, A may rejoin before or after its held work is fenced (a race it may lose either way), but it
          // is given its former partitions back and must claim them afresh rather than stay halted.
          await waitFor(
            async () => {
              const now = await offsets();
              return now.every((row) => row.owner === 'zombie-a' && row.epoch > beforeWake.get(row.partition)!.epoch);
            },
            { timeoutMs: 60_000, message: 'zombie-a to claim every partition again after waking up alone' },
          );
        }

        expect((await source.interrupt()).code).toBe(0);
        await waitUntilCaughtUp(fixture, 90_000);
        const initialStock = new Map(Array.from({ length: PRODUCTS }, (_, index) => [index + 1, STOCK]));
        const snapshot = await takeSnapshot(fixture, initialStock);
        expect(findOrderFlowViolations(snapshot)).toEqual([]);
        expect(snapshot.orders.length).toBeGreaterThan(500);

        const stillRunning = survivorLeavesBeforeWake ? [zombie, relay] : [zombie, survivor, relay];
        for (const role of stillRunning) expect({ name: role.name, exit: await role.interrupt() }).toEqual({ name: role.name, exit: { code: 0, signal: null } });
      })(),
    );
  }

  it('fences the late commit of a frozen replica while the new owner keeps committing', () => zombieScenario('eo-zombie', false), 150_000);

  it('lets a zombie that wakes up alone in the group claim its former partitions afresh', () => zombieScenario('eo-zombie-alone', true), 150_000);
});
