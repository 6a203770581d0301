/**
 * `topology cancel` on the real broker and PostgreSQL: it publishes one CancelOrder keyed by the
 * order id, and with --wait prints the answer once the OrderCancelled naming its order and
 * request is on the outcome topic (produced here by the test: the processor that applies
 * cancellations is not part of this test).
 */
import type { OrderLine } from '../../../processors/events.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isUuidV7 } from '../../../core/random.ts';
import { partitionForKey } from '../../../kafka/index.ts';
import { cancelOrderCodec } from '../../../processors/commands.ts';
import { encodeEvent, eventHeaders } from '../../../processors/event-json.ts';
import { type CancellationResult, orderCancelled } from '../../../processors/outcome-events.ts';
import { type CommandFixture, createCommandFixture } from '../../support/command-cli.ts';
import { readTopic } from '../../support/pipeline.ts';

const PARTITIONS = 3;
const ORDER = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('topology cancel', () => {
  let fixture: CommandFixture;

  beforeAll(async () => {
    fixture = await createCommandFixture('cancel_command', { partitions: PARTITIONS });
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  const requestIdIn = (line: string) => /^cancellation ([0-9a-f-]{36}) of order /.exec(line)?.[1];
  const answer = (requestId: string, result: CancellationResult, releasedLines: OrderLine[] = []) => {
    const event = orderCancelled({ orderId: ORDER, requestId, result, releasedLines }, Date.now());
    return { topic: fixture.topics.ORDERS_CANCELLED_TOPIC, key: ORDER, value: encodeEvent(event), headers: eventHeaders(event) };
  };

  it('publishes one CancelOrder with a fresh UUIDv7 request id, keyed by the order id, and prints the request id', async () => {
    const result = await fixture.run('cancel', ['--order', ORDER.toUpperCase(), '--requested-by', 'cancel test', '--no-wait']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const requestId = requestIdIn(result.stdout);
    expect(result.stdout).toBe(`cancellation ${requestId} of order ${ORDER} published to ${fixture.topics.CANCEL_COMMANDS_TOPIC}\n`);
    expect(isUuidV7(requestId!)).toBe(true);

    const records = await readTopic(fixture, fixture.topics.CANCEL_COMMANDS_TOPIC);
    expect(records).toHaveLength(1);
    const [record] = records as [(typeof records)[0]];
    expect(cancelOrderCodec.decode(record.value)).toMatchObject({ eventId: `cancel-order:${requestId}`, type: 'CancelOrder', payload: { requestId, orderId: ORDER, requestedBy: 'cancel test' } });
    expect(record.key?.toString()).toBe(ORDER);
    expect(record.partition).toBe(partitionForKey(ORDER, PARTITIONS));
    expect(record.headers).toMatchObject({ 'event-type': 'CancelOrder', 'event-id': `cancel-order:${requestId}` });
  });

  it.each([
    ['cancelled', 0, [{ productId: 1, quantity: 3 }, { productId: 4, quantity: 1 }], 'cancelled; released 2 lines: 3x product 1, 1x product 4'],
    ['unknown_order', 1, [], 'is unknown'],
  ] as const)('--wait prints the answer %s once the OrderCancelled naming its request is on the outcome topic, exit %i', async (result, code, releasedLines, words) => {
    const cancel = fixture.start('cancel', ['--order', ORDER, '--timeout', '60s']);
    const published = await cancel.process.waitForLog(/^cancellation [0-9a-f-]{36} of order /);
    const requestId = requestIdIn(String(published.raw))!;
    // The answer to another request for the same order first: it is not this request's.
    await fixture.producer.send([answer('0193a1b2-c3d4-7e5f-8a9b-000000000009', 'already_requested'), answer(requestId, result, [...releasedLines])]);
    const exit = await cancel.process.exited;
    expect({ exit, stdout: cancel.stdout() }).toEqual({ exit: { code, signal: null }, stdout: `${published.raw}\norder ${ORDER} ${words} (request ${requestId})\n` });
  });

  it('--wait without an answer within the timeout: says the request is on its topic and that an undecided order answers later, exit 0', async () => {
    const result = await fixture.run('cancel', ['--order', ORDER, '--timeout', '1s']);
    const requestId = requestIdIn(result.stdout);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout.split('\n')[1]).toBe(
      `no answer within 1.0s: cancellation ${requestId} of order ${ORDER} is on ${fixture.topics.CANCEL_COMMANDS_TOPIC} and will be applied when the processor runs (an order not decided yet answers once it is decided)`,
    );
  });
});
