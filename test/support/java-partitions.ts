/**
 * Kafka's own murmur2 and default-partitioner choices (test/fixtures/murmur2-java.json, printed
 * once by test/fixtures/Vectors.java from kafka-clients), so partition checks compare against
 * Java and never against the function they check.
 */
import { readFileSync } from 'node:fs';

export interface JavaVector {
  key: string;
  /** The key's UTF-8 bytes, as Java's StringSerializer writes them. */
  utf8Hex: string;
  /** Utils.murmur2(bytes), a signed 32-bit integer. */
  murmur2: number;
  /** BuiltInPartitioner.partitionForKey(bytes, n), by partition count n. */
  partitions: Record<string, number>;
}

export const JAVA_VECTORS: readonly JavaVector[] = (JSON.parse(readFileSync(new URL('../fixtures/murmur2-java.json', import.meta.url), 'utf8')) as { vectors: JavaVector[] }).vectors;

const byKey = new Map(JAVA_VECTORS.map((vector) => [vector.key, vector]));

/** The partition Java's producer picks for `key` among `partitions`; throws when the fixture lacks the pair (regenerate it with the key). */
export function javaPartition(key: string, partitions: number): number {
  const partition = byKey.get(key)?.partitions[String(partitions)];
  if (partition === undefined) throw new Error(`test/fixtures/murmur2-java.json has no partition of key ${JSON.stringify(key)} among ${partitions}: add it to Vectors.java and regenerate`);
  return partition;
}
