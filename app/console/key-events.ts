/**
 * A key's records on a topic, found without a scan of the whole topic: the key's partition is
 * the project's murmur2 (kafka/murmur2.ts, what both adapters partition by), and the search
 * reads a bounded window of it, from a time (listOffsets by timestamp) or back from its end.
 */
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../../kafka/port.ts';
import { partitionForKey } from '../../kafka/murmur2.ts';
import { readRanges } from './topic-reader.ts';

/** How many records a window reads: a look-up stays well under a second on a busy partition. */
export const WINDOW_RECORDS = 5000;

export interface KeySearch {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  topic: string;
  key: string;
}

/** The key's partition of `topic`, or undefined when the topic does not exist. */
async function partitionOfKey(search: KeySearch): Promise<number | undefined> {
  const partitions = await search.admin.partitionCount(search.topic);
  return partitions === undefined ? undefined : partitionForKey(search.key, partitions);
}

/** The key's records written at or after `sinceMs`, within one window of its partition. */
export async function keyRecordsSince(search: KeySearch, sinceMs: number, windowRecords = WINDOW_RECORDS): Promise<ConsumedRecord[]> {
  const partition = await partitionOfKey(search);
  if (partition === undefined) return [];
  const [starts, ends] = await Promise.all([search.admin.listOffsets(search.topic, { timestamp: sinceMs }), search.admin.highWatermarks(search.topic)]);
  const from = starts.get(partition) ?? 0n;
  const end = ends.get(partition) ?? 0n;
  const to = from + BigInt(windowRecords) < end ? from + BigInt(windowRecords) : end;
  const records = await readRanges(search.kafka, search.topic, [{ partition, from, to }]);
  return records.filter((record) => record.key?.toString('utf8') === search.key);
}

/**
 * The key's newest records, newest first, at most `limit`: windows read back from the
 * partition's end until `limit` are found, the partition's start is reached, or `maxWindows` were read.
 */
export async function newestKeyRecords(search: KeySearch, limit: number, options: { windowRecords?: number; maxWindows?: number } = {}): Promise<ConsumedRecord[]> {
  const windowRecords = BigInt(options.windowRecords ?? WINDOW_RECORDS);
  const maxWindows = options.maxWindows ?? 4;
  const partition = await partitionOfKey(search);
  if (partition === undefined) return [];
  const [starts, ends] = await Promise.all([search.admin.listOffsets(search.topic, 'earliest'), search.admin.highWatermarks(search.topic)]);
  const start = starts.get(partition) ?? 0n;
  let to = ends.get(partition) ?? 0n;
  const found: ConsumedRecord[] = [];
  for (let window = 0; window < maxWindows && to > start && found.length < limit; window++) {
    const from = to - windowRecords > start ? to - windowRecords : start;
    const records = await readRanges(search.kafka, search.topic, [{ partition, from, to }]);
    found.push(...records.filter((record) => record.key?.toString('utf8') === search.key).reverse());
    to = from;
  }
  return found.slice(0, limit);
}
