/**
 * kill -9 of the processor (and once of the relay) at random points while orders keep
 * arriving: after the pipeline catches up, every order is decided exactly once, stock equals
 * initial stock minus confirmed units, and the inventory topic is a gapless changelog.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeOrderCreated } from '../../../processors/events.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { waitFor } from '../../support/kafka.ts';
import {
  committedTotal,
  createPipelineFixture,
  findInvariantViolations,
  type PipelineFixture,
  type RoleProcess,
  readTopic,
  takeSnapshot,
  waitUntilCaughtUp,
} from '../../support/pipeline.ts';

const PRODUCTS = 20;
const STOCK = 150;
const RATE_PER_SECOND = '60';
const PROCESSOR_KILLS = 4;

describe('exactly-once under processor crashes (kill -9)', () => {
  let fixture: PipelineFixture;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-crash', { partitions: 6 });
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('decides every order once and keeps stock, versions and the topic consistent across restarts', () =>
    fixture.diagnose(
      (async () => {
        const relays: RoleProcess[] = [fixture.spawnRole('relay', { name: 'relay-1' })];
        const source = fixture.spawnRole('source', { args: ['--rate', RATE_PER_SECOND] });
        let processor = fixture.spawnRole('processor', { name: 'processor-1' });
        const killedAt: bigint[] = [];

        for (let kill = 1; kill <= PROCESSOR_KILLS; kill++) {
          // A random amount of committed progress since the last restart picks the kill point.
          const target = (await committedTotal(fixture)) + BigInt(20 + Math.floor(Math.random() * 150));
          await waitFor(async () => (await committedTotal(fixture)) >= target, {
            timeoutMs: 60_000,
            intervalMs: 20,
            message: `${processor.name} to commit up to ${target} records in total`,
          });
          const exit = await processor.kill9();
          expect(exit.signal).toBe('SIGKILL');
          killedAt.push(await committedTotal(fixture));
          if (kill === 2) {
            // A relay killed mid-stream re-publishes what it sent but had not marked: duplicates must be identical events.
            await relays.at(-1)!.kill9();
            relays.push(fixture.spawnRole('relay', { name: 'relay-2' }));
          }
          processor = fixture.spawnRole('processor', { name: `processor-${kill + 1}` });
        }

        // The last processor must have taken over before the source stops, or nothing proves it recovered.
        const lastKill = killedAt.at(-1)!;
        await waitFor(async () => (await committedTotal(fixture)) > lastKill, { timeoutMs: 60_000, message: `${processor.name} to commit after the last restart` });
        expect((await source.interrupt()).code).toBe(0);
        await waitUntilCaughtUp(fixture, 90_000);

        const initialStock = new Map(Array.from({ length: PRODUCTS }, (_, index) => [index + 1, STOCK]));
        const snapshot = await takeSnapshot(fixture, initialStock);
        expect(findInvariantViolations(snapshot)).toEqual([]);

        // The run must have exercised both outcomes and enough orders to be meaningful.
        const confirmed = snapshot.orders.filter((order) => order.status === 'confirmed').length;
        const rejected = snapshot.orders.filter((order) => order.status === 'rejected').length;
        expect(snapshot.orders.length).toBeGreaterThan(1000);
        expect(confirmed).toBeGreaterThan(0);
        expect(rejected).toBeGreaterThan(0);
        expect(confirmed + rejected).toBe(snapshot.orders.length);

        // The source's half of the guarantee: every stored order is on the topic, nothing else is.
        const published = new Set((await readTopic(fixture, fixture.names.ordersTopic)).map((record) => decodeOrderCreated(record.value).payload.orderId));
        expect(published).toEqual(new Set(snapshot.orders.map((order) => order.id)));

        for (const role of [processor, relays.at(-1)!]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 240_000);
});
