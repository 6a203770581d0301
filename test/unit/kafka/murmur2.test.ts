import { describe, expect, it } from '@jest/globals';
import { compatibilityPartitioner } from '@platformatic/kafka';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { javaCompatiblePartitioner as kafkajsAdapterPartitioner } from '../../../kafka/kafkajs/producer.ts';
import { murmur2, partitionForKey, toPositive } from '../../../kafka/murmur2.ts';
import { javaCompatiblePartitioner as platformaticAdapterPartitioner } from '../../../kafka/platformatic/producer.ts';
import { JAVA_VECTORS as GENERATED_VECTORS } from '../../support/java-partitions.ts';

// Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java#testMurmur2
const UPSTREAM_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

const partitionMetadata = (count: number) =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe('murmur2', () => {
  it.each(UPSTREAM_VECTORS)('hashes %j exactly like Java Utils.murmur2', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('hashes every key of the vectors generated with kafka-clients exactly like Java (ASCII, multi-byte UTF-8, empty, long, product ids)', () => {
    expect(GENERATED_VECTORS.length).toBeGreaterThan(100);
    for (const vector of GENERATED_VECTORS) {
      expect([vector.key, murmur2(Buffer.from(vector.utf8Hex, 'hex'))]).toEqual([vector.key, vector.murmur2]);
    }
  });

  it('matches a literal transcription of the Java loop for every tail length (the vectors lack 1-byte tails)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(murmur2(Buffer.from(bytes))).toBe(referenceMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 500 },
    );
    expect(murmur2(Buffer.from('a'))).toBe(referenceMurmur2(Buffer.from('a')));
  });

  it('agrees with kafkajs 2.x DefaultPartitioner and platformatic compatibilityPartitioner on any key', () => {
    const kafkajsDefault = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, partitions) => {
        const key = Buffer.from(bytes);
        const ours = partitionForKey(key, partitions);
        expect(kafkajsDefault({ topic: 't', partitionMetadata: partitionMetadata(partitions), message: { key, value: null } })).toBe(ours);
        expect(compatibilityPartitioner({ topic: 't' }, key) % partitions).toBe(ours);
      }),
      { numRuns: 500 },
    );
  });
});

describe('partitionForKey', () => {
  it("picks Java's default-partitioner partition for every generated key and partition count", () => {
    for (const vector of GENERATED_VECTORS) {
      for (const [count, partition] of Object.entries(vector.partitions)) {
        expect([vector.key, count, partitionForKey(vector.key, Number(count))]).toEqual([vector.key, count, partition]);
      }
    }
  });

  it('masks the sign bit instead of taking an absolute value, like Java Utils.toPositive', () => {
    // murmur2("21") is negative: Math.abs would give a different partition.
    const hash = murmur2(Buffer.from('21'));
    expect(hash).toBeLessThan(0);
    expect(partitionForKey('21', 12)).toBe((hash & 0x7fffffff) % 12);
    expect(partitionForKey('21', 12)).not.toBe(Math.abs(hash) % 12);
    expect(toPositive(-1)).toBe(0x7fffffff);
  });

  it('encodes string keys as UTF-8 (Java StringSerializer)', () => {
    expect(partitionForKey('produit-é', 7)).toBe(partitionForKey(Buffer.from('produit-é', 'utf8'), 7));
  });

  it('rejects a non-positive partition count', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
  });
});

describe('adapter partitioners', () => {
  it("send every generated key where Java's producer does, in both adapters and the clients' own Java-compatible partitioners", () => {
    const forKafkajs = kafkajsAdapterPartitioner();
    const forPlatformatic = platformaticAdapterPartitioner();
    const kafkajsDefault = Partitioners.DefaultPartitioner();
    for (const vector of GENERATED_VECTORS) {
      const bytes = Buffer.from(vector.utf8Hex, 'hex');
      for (const [count, partition] of Object.entries(vector.partitions)) {
        const partitions = Number(count);
        const metadata = partitionMetadata(partitions);
        const chosen = {
          kafkajsAdapter: forKafkajs({ topic: 't', partitionMetadata: metadata, message: { key: vector.key, value: null } }),
          // @platformatic/kafka reduces the partitioner's result modulo the partition count itself.
          platformaticAdapter: forPlatformatic({ topic: 't' }, bytes) % partitions,
          kafkajsDefault: kafkajsDefault({ topic: 't', partitionMetadata: metadata, message: { key: bytes, value: null } }),
          platformaticCompatibility: compatibilityPartitioner({ topic: 't' }, bytes) % partitions,
        };
        expect([vector.key, partitions, chosen]).toEqual([
          vector.key,
          partitions,
          { kafkajsAdapter: partition, platformaticAdapter: partition, kafkajsDefault: partition, platformaticCompatibility: partition },
        ]);
      }
    }
  });

  it('send every key to partitionForKey(key) in both adapters', () => {
    const forKafkajs = kafkajsAdapterPartitioner();
    const forPlatformatic = platformaticAdapterPartitioner();
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 48 }), (key, partitions) => {
        const expected = partitionForKey(key, partitions);
        expect(forKafkajs({ topic: 't', partitionMetadata: partitionMetadata(partitions), message: { key, value: null } })).toBe(expected);
        // @platformatic/kafka reduces the partitioner's result modulo the partition count itself.
        expect(forPlatformatic({ topic: 't' }, Buffer.from(key, 'utf8')) % partitions).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an explicit partition in the kafkajs adapter', () => {
    const partitioner = kafkajsAdapterPartitioner();
    expect(partitioner({ topic: 't', partitionMetadata: partitionMetadata(4), message: { key: 'k', value: null, partition: 3 } })).toBe(3);
  });

  it('spreads keyless messages over partitions', () => {
    const partitioner = kafkajsAdapterPartitioner();
    const seen = new Set(Array.from({ length: 8 }, () => partitioner({ topic: 't', partitionMetadata: partitionMetadata(4), message: { key: null, value: null } })));
    expect(seen.size).toBe(4);
  });
});

/** A literal transcription of Java's loop (with its switch fall-through), to cross-check tail handling. */
function referenceMurmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const length4 = Math.floor(data.length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = data.length % 4;
  const base = data.length & ~3;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
