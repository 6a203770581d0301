import { describe, expect, it } from '@jest/globals';
import { IS_CONTROL, type KafkaRecord, type RecordsBatch } from '@platformatic/kafka';
import { toPartitionRecords } from '../../../kafka/platformatic/records.ts';

function record(offsetDelta: number, value: string, headers: [Buffer | null, Buffer | null][] = []): KafkaRecord {
  return { length: 0, attributes: 0, timestampDelta: BigInt(offsetDelta), offsetDelta, key: Buffer.from(`k${offsetDelta}`), value: Buffer.from(value), headers };
}

function batch(firstOffset: bigint, records: KafkaRecord[], attributes = 0, lastOffsetDelta = records.length - 1): RecordsBatch {
  return {
    firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta,
    firstTimestamp: 1_700_000_000_000n,
    maxTimestamp: 0n,
    producerId: -1n,
    producerEpoch: -1,
    firstSequence: -1,
    records,
  };
}

describe('toPartitionRecords', () => {
  it('cuts records before the fetch offset (a compressed batch may start earlier)', () => {
    const result = toPartitionRecords('t', 2, 11n, [batch(10n, [record(0, 'a'), record(1, 'b'), record(2, 'c')])]);
    expect(result.records.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [11n, 'b'],
      [12n, 'c'],
    ]);
    expect(result.nextOffset).toBe(13n);
  });

  it('skips control batches but moves past them', () => {
    const result = toPartitionRecords('t', 0, 0n, [batch(0n, [record(0, 'a')]), batch(1n, [], IS_CONTROL, 0)]);
    expect(result.records).toHaveLength(1);
    expect(result.nextOffset).toBe(2n);
  });

  it('keeps the fetch offset as the next offset when nothing came back', () => {
    expect(toPartitionRecords('t', 0, 42n, [])).toEqual({ records: [], nextOffset: 42n });
  });

  it('decodes headers, key, timestamp and partition', () => {
    const [only] = toPartitionRecords('t', 3, 5n, [batch(5n, [record(0, 'v', [[Buffer.from('event-type'), Buffer.from('OrderCreated')], [Buffer.from('empty'), null]])])]).records;
    expect(only).toEqual({
      topic: 't',
      partition: 3,
      offset: 5n,
      key: Buffer.from('k0'),
      value: Buffer.from('v'),
      headers: { 'event-type': 'OrderCreated', empty: '' },
      timestamp: 1_700_000_000_000,
    });
  });
});
