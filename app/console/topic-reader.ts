/**
 * Reads bounded ranges of a topic's partitions through the client port's PartitionReader (no
 * consumer group, nothing committed): what the console shows of the dead-letter topic and of a
 * key's events. A range ends where it was asked to, or at the partition's end when it was read;
 * a range that does not arrive whole within the timeout gives what came (a gap left by a
 * control record or a deleted segment must not hang a page).
 */
import { waitFor } from '../../core/wait.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../../kafka/port.ts';

export interface PartitionRange {
  partition: number;
  /** First offset wanted. */
  from: bigint;
  /** One past the last offset wanted. */
  to: bigint;
}

const READ_TIMEOUT_MS = 10_000;

/** The records of `topic` in each range, per range in offset order. */
export async function readRanges(kafka: KafkaClient, topic: string, ranges: readonly PartitionRange[], timeoutMs = READ_TIMEOUT_MS): Promise<ConsumedRecord[]> {
  const wanted = ranges.filter((range) => range.to > range.from);
  if (wanted.length === 0) return [];
  const received = new Map<number, ConsumedRecord[]>(wanted.map((range) => [range.partition, []]));
  const ends = new Map(wanted.map((range) => [range.partition, range.to]));
  const reader = kafka.partitionReader({ clientId: `console-reader-${process.pid}` });
  try {
    await reader.start(
      wanted.map((range) => ({ topic, partition: range.partition, offset: range.from })),
      (batch) => {
        const end = ends.get(batch.partition)!;
        received.get(batch.partition)?.push(...batch.records.filter((record) => record.offset < end));
      },
    );
    const reached = () => wanted.every((range) => (received.get(range.partition)!.at(-1)?.offset ?? range.from - 1n) >= range.to - 1n);
    await waitFor(reached, { timeoutMs, intervalMs: 20, message: `records of ${topic}` }).catch(() => undefined);
  } finally {
    await reader.close();
  }
  return wanted.flatMap((range) => received.get(range.partition)!.filter((record) => record.offset >= range.from));
}

/** Per partition of `topic`: the log start and the log end (empty when the topic does not exist). */
export async function partitionBounds(admin: KafkaAdmin, topic: string): Promise<Map<number, { start: bigint; end: bigint }>> {
  if ((await admin.partitionCount(topic)) === undefined) return new Map();
  const [starts, ends] = await Promise.all([admin.listOffsets(topic, 'earliest'), admin.highWatermarks(topic)]);
  return new Map([...ends].map(([partition, end]) => [partition, { start: starts.get(partition) ?? 0n, end }]));
}

/** The last `count` offsets of each partition, within its bounds. Pure. */
export function tailRanges(bounds: ReadonlyMap<number, { start: bigint; end: bigint }>, count: number): PartitionRange[] {
  return [...bounds].map(([partition, { start, end }]) => ({ partition, from: end - BigInt(count) > start ? end - BigInt(count) : start, to: end }));
}
