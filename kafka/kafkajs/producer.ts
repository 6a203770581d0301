/** Idempotent, acks=all producer on kafkajs, partitioning keys with our Java-compatible murmur2. */
import type { ICustomPartitioner, Kafka, Message, Producer } from 'kafkajs';
import { partitionForKey, toPositive } from '../murmur2.ts';
import type { KafkaProducer, OutgoingMessage } from '../port.ts';
import { refusalIn } from '../send-refused.ts';
import { translateKafkajsError, translating } from './errors.ts';

/**
 * kafkajs 2.x's DefaultPartitioner is Java-compatible too (see the unit test); using the
 * same function as the other adapter makes that a fact of this code, not of a dependency.
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  let next = 0;
  return ({ partitionMetadata, message }) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key !== undefined && message.key !== null) return partitionForKey(message.key, partitionMetadata.length);
    return toPositive(next++) % partitionMetadata.length;
  };
};

/** A KafkaJSProtocolError's broker code (`type`, e.g. MESSAGE_TOO_LARGE), when kafkajs says retrying cannot help. */
function protocolType(error: object): string | undefined {
  const candidate = error as { type?: unknown; retriable?: unknown };
  return typeof candidate.type === 'string' && candidate.retriable === false ? candidate.type : undefined;
}

export class KafkajsProducer implements KafkaProducer {
  readonly #producer: Producer;
  #connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      idempotent: true,
      // Ordering with idempotence: kafkajs's sequence bookkeeping is only safe with one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: javaCompatiblePartitioner,
    });
  }

  async connect(): Promise<void> {
    this.#connected ??= this.#producer.connect();
    await translating({}, () => this.#connected!);
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const message of messages) {
      const list = byTopic.get(message.topic) ?? [];
      list.push({
        key: message.key,
        value: message.value,
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.partition === undefined ? {} : { partition: message.partition }),
      });
      byTopic.set(message.topic, list);
    }
    try {
      await this.#producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
    } catch (error) {
      throw refusalIn(error, protocolType) ?? translateKafkajsError(error, byTopic.size === 1 ? { topic: [...byTopic.keys()][0]! } : { topics: [...byTopic.keys()] });
    }
  }

  async close(): Promise<void> {
    await translating({}, () => this.#producer.disconnect());
  }
}
