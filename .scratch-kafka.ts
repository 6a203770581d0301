import { createKafkaClient } from './kafka/index.ts';
import { createLogger } from './core/logger.ts';
import { uniqueName, waitFor, BatchCollector } from './test/support/kafka.ts';
const logger = createLogger({ level: 'debug', format: 'pretty' });
const client = createKafkaClient({ kafkaClient: (process.env.C ?? 'kafkajs') as 'kafkajs', kafkaBrokers: ['127.0.0.1:9092'] }, logger);
const admin = await client.admin();
const topic = uniqueName('scratch');
await admin.createTopics([{ topic, partitions: 3 }]);
await admin.createTopics([{ topic, partitions: 3 }]);
console.log('count', await admin.partitionCount(topic), await admin.partitionCount('nope-'+topic));
const producer = await client.producer();
await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}`, headers: { a: 'b' } })));
console.log('hw', await admin.highWatermarks(topic));
const reader = client.partitionReader();
const c = new BatchCollector();
await reader.start([{ topic, partition: 0, offset: 1n }, { topic, partition: 1, offset: 0n }, { topic, partition: 2, offset: 0n }], c.onBatch);
await waitFor(() => c.records().length >= 9, { message: 'records' });
console.log(c.records().map(r => `${r.partition}:${r.offset}:${r.key}:${r.value}:${JSON.stringify(r.headers)}`));
await reader.close();
const consumer = client.groupConsumer({ groupId: uniqueName('g'), topics: [topic], sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 });
const c2 = new BatchCollector();
const t0 = Date.now();
await consumer.start({
  onAssigned: async (tps) => { console.log('assigned', tps, Date.now() - t0); return tps.map(tp => ({ ...tp, offset: 0n })); },
  onRevoked: (tps) => console.log('revoked', tps),
  onBatch: c2.onBatch,
  onError: (e) => console.log('error', e),
});
await waitFor(() => c2.records().length >= 10, { message: 'group records' });
console.log('group got', c2.records().length, Date.now() - t0);
await consumer.commitOffsets([{ topic, partition: 0, offset: 2n }]);
await consumer.close();
await producer.close();
await admin.deleteTopics([topic]);
console.log('topics after delete has it?', (await admin.listTopics()).includes(topic));
await admin.close();
