/**
 * The outcome rates of `topology status` and the status line come from the end offsets of the
 * outcome topics: the snapshot reads them from the real broker (a topic that does not exist is
 * left out), and `status` shows the rates in text and JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { takeSnapshot } from '../../../app/status.ts';
import { type CommandFixture, createCommandFixture } from '../../support/command-cli.ts';
import { TopicPool, uniqueName } from '../../support/kafka.ts';

describe('outcome rates of the status', () => {
  let fixture: CommandFixture;
  let topics: TopicPool;

  beforeAll(async () => {
    fixture = await createCommandFixture('status_outcomes', { partitions: 2 });
    topics = new TopicPool(fixture.admin);
  });
  afterAll(async () => {
    await topics?.cleanup();
    await fixture?.cleanup();
  });

  it('the snapshot sums each outcome topic\'s end offsets over its partitions; a topic that does not exist is left out', async () => {
    const confirmed = await topics.create('status-confirmed', 2);
    const restocked = await topics.create('status-restocked', 2);
    await fixture.producer.send([
      { topic: confirmed, partition: 0, key: 'a', value: '1' },
      { topic: confirmed, partition: 1, key: 'b', value: '2' },
      { topic: confirmed, partition: 1, key: 'c', value: '3' },
      { topic: restocked, partition: 0, key: '4', value: '4' },
    ]);
    const snapshot = await takeSnapshot({
      sequelize: fixture.db.sequelize,
      admin: fixture.admin,
      group: uniqueName('status-group'),
      topics: [],
      dlqTopic: uniqueName('status-no-dlq'),
      outcomeTopics: { confirmed, rejected: uniqueName('status-no-such-topic'), restocked },
    });
    expect(snapshot.outcomeEnds).toEqual({ confirmed: 3n, restocked: 1n });
  });

  it('`topology status` shows them in text and in --json', async () => {
    const text = await fixture.run('status', ['--sample-ms', '0']);
    expect({ code: text.code, line: text.stdout.split('\n')[1] }).toEqual({ code: 0, line: 'outcomes: confirmed 0.0/s, rejected 0.0/s, restocked 0.0/s (restocks applied, not units)' });

    // Confirmations keep coming while status samples: its confirmed rate is above 0, the others stay 0.
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        await fixture.producer.send([{ topic: fixture.topics.ORDERS_CONFIRMED_TOPIC, key: `order-${i}`, value: '{}' }]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const json = await fixture.run('status', ['--json', '--sample-ms', '2000']).finally(() => {
      producing = false;
    });
    await producer;
    expect(json.code).toBe(0);
    const rates = JSON.parse(json.stdout).outcomeRates;
    expect({ ...rates, confirmed: rates.confirmed > 0 }).toEqual({ confirmed: true, rejected: 0, restocked: 0 });
  });
});
