/**
 * Publishes commands to their topic in the JSON envelope, with the event headers, through a
 * producer whose send cannot hang (kafka/send-deadline.ts): a send neither acknowledged nor
 * refused in time fails with a retriable error instead of waiting for ever.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.ts';
import { createRandom, createUuidV7Source } from '../core/random.ts';
import type { KafkaClient, KafkaProducer } from '../kafka/port.ts';
import { DEFAULT_SEND_TIMEOUT_MS, DeadlineProducer } from '../kafka/send-deadline.ts';
import { type AnyEvent, encodeEvent, eventHeaders } from '../processors/event-json.ts';

export interface KeyedCommand {
  event: AnyEvent;
  /** The id the topic is keyed by (product or order): the partition the command is applied in. */
  key: string;
}

/** A producer for commands; close it when done. */
export function commandProducer(kafka: KafkaClient, logger: Logger, clientId: string): Promise<KafkaProducer> {
  return DeadlineProducer.create({ create: () => kafka.producer({ clientId }), timeoutMs: DEFAULT_SEND_TIMEOUT_MS, logger });
}

/** Sends every command in one acknowledged send. */
export async function sendCommands(producer: KafkaProducer, topic: string, commands: readonly KeyedCommand[]): Promise<void> {
  if (commands.length === 0) return;
  await producer.send(commands.map(({ event, key }) => ({ topic, key, value: encodeEvent(event), headers: eventHeaders(event) })));
}

/** One command, with a producer of its own: for a command line that sends once and exits. */
export async function sendOneCommand(kafka: KafkaClient, logger: Logger, topic: string, command: KeyedCommand): Promise<void> {
  const producer = await commandProducer(kafka, logger, `topology-cli-${process.pid}`);
  try {
    await sendCommands(producer, topic, [command]);
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/**
 * Fresh UUIDv7s for commands' own ids (restockId, requestId): time-ordered like the order ids,
 * seeded from the operating system's randomness so two processes do not draw the same ones.
 */
export function commandIdSource(): () => string {
  const next = createUuidV7Source(createRandom(randomBytes(4).readUInt32BE(0)));
  return () => next(Date.now());
}
