/** Converts @platformatic/kafka's raw fetch batches into the port's records. Pure. */
import { IS_CONTROL, type RecordsBatch } from '@platformatic/kafka';
import type { ConsumedRecord } from '../port.ts';

export interface PartitionRecords {
  records: ConsumedRecord[];
  /** Offset after the last batch returned, control batches included; `fetchedFrom` when nothing came back. */
  nextOffset: bigint;
}

/**
 * Records at or after `fetchedFrom`, in offset order. A compressed batch may start before the
 * requested offset, so earlier records are cut; control batches (transaction markers) carry no
 * records but still move the next offset past them.
 */
export function toPartitionRecords(topic: string, partition: number, fetchedFrom: bigint, batches: RecordsBatch[]): PartitionRecords {
  const records: ConsumedRecord[] = [];
  let nextOffset = fetchedFrom;
  for (const batch of batches) {
    const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (batchEnd > nextOffset) nextOffset = batchEnd;
    if (batch.attributes & IS_CONTROL) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < fetchedFrom) continue;
      records.push({
        topic,
        partition,
        offset,
        key: record.key ?? null,
        value: record.value ?? null,
        headers: decodeHeaders(record.headers),
        timestamp: Number(batch.firstTimestamp + record.timestampDelta),
      });
    }
  }
  return { records, nextOffset };
}

function decodeHeaders(headers: [Buffer | null, Buffer | null][]): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [key, value] of headers) {
    if (key === null) continue;
    decoded[key.toString('utf8')] = value === null ? '' : value.toString('utf8');
  }
  return decoded;
}
