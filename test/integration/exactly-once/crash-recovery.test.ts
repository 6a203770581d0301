/**
 * kill -9 of the processor (and once of the relay) at random points while multi-line orders
 * keep arriving and restocks and cancellations (some twice, some of unknown orders) are sent
 * between them: after the pipeline catches up, every order is decided exactly once and its
 * outcome published once, every cancellation answered once and applied at most once, every
 * restock applied once, stock equals initial + restocked − the lines of confirmed orders, and
 * the inventory topic is a gapless changelog.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_ORDER_LINES } from '../../../core/config.ts';
import { decodeOrderCreated } from '../../../processors/events.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { waitFor } from '../../support/kafka.ts';
import {
  committedTotal,
  createPipelineFixture,
  findOrderFlowViolations,
  type PipelineFixture,
  type RoleProcess,
  readTopic,
  startCommandLoad,
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

  it('decides every multi-line order once, answers every command, and keeps stock, versions and the topics consistent across restarts', () =>
    fixture.diagnose(
      (async () => {
        const relays: RoleProcess[] = [fixture.spawnRole('relay', { name: 'relay-1' })];
        const source = fixture.spawnRole('source', { args: ['--rate', RATE_PER_SECOND, '--lines', DEFAULT_ORDER_LINES] });
        let processor = fixture.spawnRole('processor', { name: 'processor-1' });
        const productIds = Array.from({ length: PRODUCTS }, (_, index) => index + 1);
        const commands = startCommandLoad(fixture, { productIds, everyMs: 500, mix: { maxRestockQuantity: 30 } });
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
        await commands.stop();
        expect((await source.interrupt()).code).toBe(0);
        await waitUntilCaughtUp(fixture, 90_000);

        const initialStock = new Map(productIds.map((id) => [id, STOCK]));
        const snapshot = await takeSnapshot(fixture, initialStock, { restocks: commands.restocksSent, cancellations: commands.cancellationsSent });
        expect(findOrderFlowViolations(snapshot)).toEqual([]);
        // The producer is on the test's own broker, which stays up: every command was acknowledged.
        expect(commands.unconfirmed).toEqual({ restocks: 0, cancellations: 0 });

        // The run must have exercised every outcome, multi-line orders and enough orders to be meaningful.
        const byStatus = Map.groupBy(snapshot.orders, (order) => order.status);
        expect(snapshot.orders.length).toBeGreaterThan(1000);
        expect([...byStatus.keys()].sort()).toEqual(['cancelled', 'confirmed', 'rejected']);
        expect(byStatus.get('confirmed')!.some((order) => order.lines.length > 1)).toBe(true);
        expect(byStatus.get('rejected')!.some((order) => order.lines.length > 1)).toBe(true);
        expect(snapshot.restocks.length).toBeGreaterThan(0);
        expect(snapshot.deadLetteredRestockIds.size).toBeGreaterThan(0);
        const results = Map.groupBy(snapshot.cancelled, ({ event }) => event.payload.result);
        for (const result of ['cancelled', 'already_cancelled', 'unknown_order'] as const) expect({ result, answered: results.has(result) }).toEqual({ result, answered: true });
        const count = <T>(groups: Map<string, T[]>) => [...groups].map(([key, values]) => `${values.length} ${key}`).join(', ');
        process.stderr.write(
          `[crash-recovery] ${snapshot.orders.length} orders with ${snapshot.orders.reduce((sum, order) => sum + order.lines.length, 0)} lines (${count(byStatus)}); ` +
            `${snapshot.restocks.length} restocks applied, ${snapshot.deadLetteredRestockIds.size} dead-lettered; ${commands.cancellationsSent.length} cancellations answered ${count(results)}\n`,
        );

        // The source's half of the guarantee: every stored order is on the topic, nothing else is.
        const published = new Set((await readTopic(fixture, fixture.names.ordersTopic)).map((record) => decodeOrderCreated(record.value).payload.orderId));
        expect(published).toEqual(new Set(snapshot.orders.map((order) => order.id)));

        for (const role of [processor, relays.at(-1)!]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 240_000);
});
