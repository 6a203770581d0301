/** Idempotent, acks=all producer on @platformatic/kafka, partitioning keys like Java. */
import { type MessageToProduce, ProduceAcks, Producer } from '@platformatic/kafka';
import { murmur2, toPositive } from '../murmur2.ts';
import type { KafkaProducer, OutgoingMessage } from '../port.ts';
import { refusalIn } from '../send-refused.ts';
import { translatePlatformaticError, translating } from './errors.ts';

/**
 * The library's default partitioner is not Java-compatible (it skips the sign-bit mask).
 * The library reduces the returned number modulo the partition count, so returning
 * toPositive(murmur2(key)) yields exactly Java's partition. Keyless messages rotate.
 */
export function javaCompatiblePartitioner(): (message: MessageToProduce, key: Buffer | undefined) => number {
  let next = 0;
  return (_message, key) => (key === undefined ? next++ & 0x7fffffff : toPositive(murmur2(key)));
}

export class PlatformaticProducer implements KafkaProducer {
  readonly #producer: Producer;

  constructor(brokers: string[], clientId: string) {
    this.#producer = new Producer({
      clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: javaCompatiblePartitioner(),
      autocreateTopics: false,
    });
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.#producer.send({ messages: messages.map(toMessage) });
    } catch (error) {
      throw refusalIn(error, protocolCode) ?? translatePlatformaticError(error, topicsOf(messages));
    }
  }

  async close(): Promise<void> {
    await translating({}, () => this.#producer.close());
  }
}

/** A ProtocolError's broker code (`apiId`, e.g. MESSAGE_TOO_LARGE), when the library says retrying cannot help. */
function protocolCode(error: object): string | undefined {
  const candidate = error as { apiId?: unknown; canRetry?: unknown };
  return typeof candidate.apiId === 'string' && candidate.canRetry === false ? candidate.apiId : undefined;
}

/** The topic a send was for, or all of them when it was for several. */
function topicsOf(messages: OutgoingMessage[]): { topic: string } | { topics: string[] } {
  const topics = [...new Set(messages.map((message) => message.topic))];
  return topics.length === 1 ? { topic: topics[0]! } : { topics };
}

/**
 * The bytes of header names and short values (an event type, a content type), kept: the same few
 * strings are encoded for every record. Longer values (ids, trace contexts) are unique per record.
 * Bounded, so arbitrary headers cannot grow it; the library only reads these buffers.
 */
const headerBytes = new Map<string, Buffer>();
const HEADER_CACHE_MAX_ENTRIES = 1024;
const HEADER_CACHE_MAX_LENGTH = 32;

function headerBuffer(text: string): Buffer {
  if (text.length > HEADER_CACHE_MAX_LENGTH) return Buffer.from(text);
  let bytes = headerBytes.get(text);
  if (bytes === undefined) {
    bytes = Buffer.from(text);
    if (headerBytes.size < HEADER_CACHE_MAX_ENTRIES) headerBytes.set(text, bytes);
  }
  return bytes;
}

function toMessage(message: OutgoingMessage): MessageToProduce {
  const headers = new Map<Buffer, Buffer>();
  const given = message.headers;
  if (given) for (const name of Object.keys(given)) headers.set(headerBuffer(name), headerBuffer(given[name]!));
  return {
    topic: message.topic,
    ...(message.key === null ? {} : { key: toBuffer(message.key) }),
    value: toBuffer(message.value),
    headers,
    ...(message.partition === undefined ? {} : { partition: message.partition }),
  };
}

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
