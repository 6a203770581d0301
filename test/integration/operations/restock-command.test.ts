/**
 * `topology restock` on the real broker and PostgreSQL: it publishes one RestockInventory keyed
 * by the product id, refuses a product the catalogue lacks without publishing, and with --wait
 * answers once the InventoryRestocked naming its restock id is on the outcome topic (produced
 * here by the test: the processor that applies restocks is not part of this test).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isUuidV7 } from '../../../core/random.ts';
import { partitionForKey } from '../../../kafka/index.ts';
import { restockInventoryCodec } from '../../../processors/commands.ts';
import { encodeEvent, eventHeaders } from '../../../processors/event-json.ts';
import { inventoryRestocked } from '../../../processors/outcome-events.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { type CommandFixture, createCommandFixture } from '../../support/command-cli.ts';
import { readTopic } from '../../support/pipeline.ts';

const PARTITIONS = 3;

describe('topology restock', () => {
  let fixture: CommandFixture;

  beforeAll(async () => {
    fixture = await createCommandFixture('restock_command', { partitions: PARTITIONS });
    await seed(fixture.db.sequelize);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  const run = (args: string[], env?: Record<string, string>) => fixture.run('restock', args, env);
  const start = (args: string[], env?: Record<string, string>) => fixture.start('restock', args, env);
  const restockIdIn = (line: string) => /^restock ([0-9a-f-]{36}): /.exec(line)?.[1];
  const commandsOnTopic = async () => (await readTopic(fixture, fixture.topics.RESTOCK_COMMANDS_TOPIC)).map((record) => ({ record, command: restockInventoryCodec.decode(record.value) }));

  it('publishes one RestockInventory with a fresh UUIDv7, keyed by the product id, and prints its id', async () => {
    const result = await run(['--product', '3', '--quantity', '50', '--requested-by', 'restock test', '--no-wait']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const restockId = restockIdIn(result.stdout);
    expect(result.stdout).toBe(`restock ${restockId}: +50 units of product 3, published to ${fixture.topics.RESTOCK_COMMANDS_TOPIC}\n`);
    expect(isUuidV7(restockId!)).toBe(true);

    const published = (await commandsOnTopic()).filter(({ command }) => command.payload.restockId === restockId);
    expect(published).toHaveLength(1);
    const [{ record, command }] = published as [(typeof published)[0]];
    expect(command).toMatchObject({ eventId: `restock-inventory:${restockId}`, type: 'RestockInventory', payload: { restockId, productId: 3, quantity: 50, requestedBy: 'restock test' } });
    expect(record.key?.toString()).toBe('3');
    expect(record.partition).toBe(partitionForKey('3', PARTITIONS));
    expect(record.headers).toMatchObject({ 'event-type': 'RestockInventory', 'event-id': `restock-inventory:${restockId}` });
  });

  it('refuses a product the catalogue does not have: one line naming the ids it has, exit 1, nothing published', async () => {
    const before = await fixture.admin.highWatermarks(fixture.topics.RESTOCK_COMMANDS_TOPIC).catch(() => new Map<number, bigint>());
    const result = await run(['--product', '99', '--quantity', '5']);
    expect({ code: result.code, stdout: result.stdout, lines: result.stderr.trim().split('\n') }).toEqual({
      code: 1,
      stdout: '',
      lines: ['error: product 99 does not exist (the catalogue has 4 products: 1, 2, 3, 4)'],
    });
    const after = await fixture.admin.highWatermarks(fixture.topics.RESTOCK_COMMANDS_TOPIC);
    expect([...after].filter(([partition, end]) => end !== (before.get(partition) ?? 0n))).toEqual([]);
  });

  it.each(['platformatic', 'kafkajs'])('--wait (%s) prints the stock before and after once the InventoryRestocked naming its restock id is on the outcome topic', async (client) => {
    const restock = start(['--product', '4', '--quantity', '25', '--timeout', '60s'], { KAFKA_CLIENT: client });
    const published = await restock.process.waitForLog(/^restock [0-9a-f-]{36}: /);
    const restockId = restockIdIn(String(published.raw))!;
    const answer = (id: string, stockAfter: number) => {
      const event = inventoryRestocked({ restockId: id, productId: 4, quantity: 25, stockAfter }, Date.now());
      return { topic: fixture.topics.INVENTORY_RESTOCKED_TOPIC, key: '4', value: encodeEvent(event), headers: eventHeaders(event) };
    };
    // Another restock's answer first: it is not the one awaited.
    await fixture.producer.send([answer('0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 99), answer(restockId, 27)]);
    const exit = await restock.process.exited;
    expect({ exit, stdout: restock.stdout() }).toEqual({ exit: { code: 0, signal: null }, stdout: `${published.raw}\nproduct 4: stock 2 -> 27 (restock ${restockId})\n` });
  });

  it('--wait without an answer within the timeout: says the command is on its topic, exit 0', async () => {
    const result = await run(['--product', '1', '--quantity', '5', '--timeout', '1s']);
    const restockId = restockIdIn(result.stdout);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout.split('\n')[1]).toBe(`no answer within 1.0s: restock ${restockId} of product 1 is on ${fixture.topics.RESTOCK_COMMANDS_TOPIC} and will be applied when the processor runs`);
  });
});
