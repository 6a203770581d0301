/**
 * The bytes of an outbox row that carries several records (record_count > 1): the records one
 * after another, each as
 *
 *   u32 event id length, event id (UTF-8)
 *   i32 key length (-1: no key), key (UTF-8)
 *   u32 header count, then per header: u32 name length, name, u32 value length, value (UTF-8)
 *   u32 value length, value (the exact bytes to publish)
 *
 * all lengths big-endian. One row per topic per commit instead of one per record: the outbox
 * insert, the relay's fetch and its mark each touch one row where they touched hundreds.
 */

export interface FramedRecord {
  eventId: string;
  key: string | null;
  headers: Record<string, string>;
  payload: Buffer;
}

export function encodeFrame(records: readonly FramedRecord[]): Buffer {
  // Sized first, then written into one allocation: a commit frames hundreds of records, and a
  // buffer per string to concatenate afterwards was most of the cost.
  let size = 0;
  for (const record of records) {
    size += 16 + Buffer.byteLength(record.eventId) + (record.key === null ? 0 : Buffer.byteLength(record.key)) + record.payload.length;
    for (const name in record.headers) size += 8 + Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!);
  }
  const frame = Buffer.allocUnsafe(size);
  let at = 0;
  const writeString = (text: string) => {
    const length = frame.write(text, at + 4, 'utf8');
    frame.writeInt32BE(length, at);
    at += 4 + length;
  };
  for (const record of records) {
    writeString(record.eventId);
    if (record.key === null) at = frame.writeInt32BE(-1, at);
    else writeString(record.key);
    const countAt = at;
    at += 4;
    let count = 0;
    for (const name in record.headers) {
      writeString(name);
      writeString(record.headers[name]!);
      count++;
    }
    frame.writeInt32BE(count, countAt);
    at = frame.writeInt32BE(record.payload.length, at);
    at += record.payload.copy(frame, at);
  }
  return frame;
}

/** The records of a frame, in order; throws on bytes that are not one (a truncated or foreign payload). */
export function decodeFrame(frame: Buffer): FramedRecord[] {
  const records: FramedRecord[] = [];
  let at = 0;
  const readLength = (): number => {
    if (at + 4 > frame.length) throw new RangeError(`outbox frame truncated at byte ${at} of ${frame.length}`);
    const length = frame.readInt32BE(at);
    at += 4;
    return length;
  };
  const readBytes = (length: number): Buffer => {
    if (length < 0 || at + length > frame.length) throw new RangeError(`outbox frame truncated at byte ${at} of ${frame.length}`);
    const bytes = frame.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const readString = (): string => readBytes(readLength()).toString('utf8');
  while (at < frame.length) {
    const eventId = readString();
    const keyLength = readLength();
    const key = keyLength === -1 ? null : readBytes(keyLength).toString('utf8');
    const headerEntries: Array<[string, string]> = [];
    const headerCount = readLength();
    for (let i = 0; i < headerCount; i++) headerEntries.push([readString(), readString()]);
    // fromEntries, not assignment: a header named "__proto__" stays a header.
    records.push({ eventId, key, headers: Object.fromEntries(headerEntries), payload: readBytes(readLength()) });
  }
  return records;
}
