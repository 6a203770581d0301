/**
 * An AsyncAPI 3.0 document of a topology's topics: one channel per topic, each with the
 * messages that travel on it (payload, headers and the Kafka key as JSON Schemas) and the
 * operations that send and receive them. The engine knows only the topics (from the
 * description); what the messages are is the application's to say, as channel contracts: the
 * document refuses a topology topic without one, so it can never silently leave a topic out.
 */
import { StreamError } from '../../core/errors.ts';
import type { TopologyDescription } from './description.ts';

/** A JSON Schema (draft 07, the AsyncAPI default schema format), as plain JSON. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface MessageContract {
  /** Unique within its channel: the message's name in the document (`type` of an event, say). */
  name: string;
  summary: string;
  description?: string;
  contentType: string;
  payload: JsonSchema;
  headers: JsonSchema;
  /** The record key: a Kafka message binding's `key`. */
  key: JsonSchema;
}

export interface OperationContract {
  action: 'send' | 'receive';
  /** Who does it (a role of the application): part of the operation's id. */
  role: string;
  summary: string;
}

export interface ChannelContract {
  topic: string;
  /** What the topic is for; also which older message versions stay readable. */
  description: string;
  messages: MessageContract[];
  operations: OperationContract[];
  /** Kafka topic configuration worth knowing (e.g. `cleanup.policy`). */
  cleanupPolicy?: Array<'delete' | 'compact'>;
}

export interface AsyncApiInfo {
  title: string;
  version: string;
  description: string;
}

/** Every topic the description names: source topics, sink topics, internal topics; in first-seen order. */
export function topicsOf(description: TopologyDescription): string[] {
  const topics = new Set<string>();
  for (const subtopology of description.subtopologies) {
    for (const node of subtopology.nodes) {
      if (node.type === 'source') for (const topic of node.topics) topics.add(topic);
      if (node.type === 'sink') topics.add(node.topic);
    }
  }
  for (const internal of description.internalTopics) topics.add(internal.topic);
  return [...topics];
}

/** AsyncAPI ids (channels, messages, operations) are limited to letters, digits, `_` and `-`; a topic's own name stays its `address`. */
function idOf(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

const KAFKA_BINDING_VERSION = '0.5.0';

export function asyncApiDocument(description: TopologyDescription, channels: readonly ChannelContract[], info: AsyncApiInfo): Record<string, unknown> {
  const byTopic = new Map(channels.map((channel) => [channel.topic, channel]));
  const missing = topicsOf(description).filter((topic) => !byTopic.has(topic));
  if (missing.length > 0) throw new StreamError('ILLEGAL_STATE', `no channel contract for topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of the topology`);
  const seenIds = new Set<string>();

  const documentChannels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const channel of channels) {
    const channelId = idOf(channel.topic);
    if (seenIds.has(channelId)) throw new StreamError('ILLEGAL_STATE', `two topics share the channel id ${channelId}`);
    seenIds.add(channelId);
    const messages: Record<string, unknown> = {};
    for (const message of channel.messages) {
      messages[idOf(message.name)] = {
        name: message.name,
        title: message.name,
        summary: message.summary,
        ...(message.description === undefined ? {} : { description: message.description }),
        contentType: message.contentType,
        headers: message.headers,
        payload: message.payload,
        bindings: { kafka: { key: message.key, bindingVersion: KAFKA_BINDING_VERSION } },
      };
    }
    documentChannels[channelId] = {
      address: channel.topic,
      title: channel.topic,
      description: channel.description,
      messages,
      bindings: {
        kafka: {
          topic: channel.topic,
          ...(channel.cleanupPolicy === undefined ? {} : { topicConfiguration: { 'cleanup.policy': channel.cleanupPolicy } }),
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
    for (const operation of channel.operations) {
      operations[`${idOf(operation.role)}-${operation.action}s-${channelId}`] = {
        action: operation.action,
        channel: { $ref: `#/channels/${channelId}` },
        summary: operation.summary,
        messages: channel.messages.map((message) => ({ $ref: `#/channels/${channelId}/messages/${idOf(message.name)}` })),
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: { title: info.title, version: info.version, description: info.description },
    defaultContentType: 'application/json',
    channels: documentChannels,
    operations,
  };
}

export function formatAsyncApi(description: TopologyDescription, channels: readonly ChannelContract[], info: AsyncApiInfo): string {
  return `${JSON.stringify(asyncApiDocument(description, channels, info), null, 2)}\n`;
}
