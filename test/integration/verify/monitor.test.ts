/**
 * The verifier's Monitor on a real PostgreSQL, with a broker look of the test's own: the wait for
 * quiescence trusts one sample, so a sample must never show quiet while a record is on its way.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaAdmin } from '../../../kafka/port.ts';
import { Monitor } from '../../../verify/monitor.ts';
import { unsettledReason } from '../../../verify/run.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const GROUP = 'monitor-group';
const TOPIC = 'line-results';

describe('Monitor', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('verify_monitor');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('does not report quiet when the relay publishes a row between the look at the broker and the look at the outbox', async () => {
    // The consumer has read line-results[0] up to offset 5, the one record still to come is an
    // outbox row the relay has not sent yet.
    await db.sequelize.query(`INSERT INTO stream_offsets (group_id, topic, partition, next_offset) VALUES ('${GROUP}', '${TOPIC}', 0, 5)`);
    await db.sequelize.query(`INSERT INTO outbox (event_id, topic, key, payload) VALUES ('e-1', '${TOPIC}', 'k', 'v')`);
    // The broker is asked for its high watermarks before the record lands (5), and the relay
    // sends the record and marks its row while that answer is on its way back.
    const relayActsDuringTheBrokerLook = {
      async highWatermarks() {
        await db.sequelize.query('UPDATE outbox SET published_at = now()');
        return new Map([[0, 5n]]);
      },
      async close() {},
    } as unknown as KafkaAdmin;
    const monitor = new Monitor({ databaseUrl: db.url, brokers: ['127.0.0.1:1'], group: GROUP, consumedTopics: [TOPIC], publishedTopics: [] }, () => 0, relayActsDuringTheBrokerLook);
    try {
      const sample = await monitor.sample();
      // Consistent with a moment at which the record was still in the outbox.
      expect(sample.unpublishedOutbox).toBe(1);
      expect(unsettledReason(sample)).toBe('1 outbox rows unpublished');
    } finally {
      await monitor.stop();
    }
  });
});
