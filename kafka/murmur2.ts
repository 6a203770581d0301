/**
 * Java-compatible murmur2 and key partitioning, bit for bit as Kafka's
 * `org.apache.kafka.common.utils.Utils.murmur2` and `BuiltInPartitioner.partitionForKey`.
 * Both client adapters partition keys with this, so switching clients never moves a key.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of `data` as a signed 32-bit integer, identical to Java's `Utils.murmur2(byte[])`. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length - (length % 4);

  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  // Java's switch falls through from 3 to 1: each present tail byte is mixed in, then one multiply.
  const tail = length % 4;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for negatives). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition Java's default partitioner picks for a non-null key (UTF-8 for strings, like StringSerializer). */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % partitions;
}
