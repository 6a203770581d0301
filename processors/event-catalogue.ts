/**
 * Which messages travel on which topic of the reference pipeline, keyed how, and who sends and
 * receives them: the channel contracts the AsyncAPI document is made of
 * (topology/describe/format-asyncapi.ts). Payloads are the very TypeBox schemas the decoders
 * check (events.ts, commands.ts, outcome-events.ts), so the document cannot drift from the code.
 * The dead-letter topic is the app's (app/asyncapi.ts): its headers are the sink's.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { repartitionTopicName } from '../topology/builder.ts';
import type { ChannelContract, JsonSchema, MessageContract } from '../topology/describe/format-asyncapi.ts';
import { CANCEL_ORDER_SCHEMA, LINE_RESULT_SCHEMA, PRODUCT_COMMAND_SCHEMA, RESTOCK_INVENTORY_SCHEMA } from './commands.ts';
import { CONTENT_TYPE_JSON } from './event-json.ts';
import { nonEmptyString, UUID_PATTERN } from './event-schema.ts';
import {
  INVENTORY_UPDATED_READABLE_VERSIONS,
  INVENTORY_UPDATED_SCHEMA,
  ORDER_CREATED_READABLE_VERSIONS,
  ORDER_CREATED_SCHEMA,
} from './events.ts';
import { INVENTORY_RESTOCKED_SCHEMA, ORDER_CANCELLED_SCHEMA, ORDER_CONFIRMED_SCHEMA, ORDER_REJECTED_SCHEMA } from './outcome-events.ts';
import { NODE_NAMES, type ReferenceTopics } from './reference-pipeline.ts';

/** W3C Trace Context: version-traceId-parentId-flags. */
const TRACEPARENT = Type.String({
  pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
  description: 'W3C Trace Context of the trace the record belongs to, when tracing is on.',
});

/** The headers every event carries (eventHeaders in event-json.ts), plus an optional traceparent. */
function eventHeadersSchema(eventType: string): JsonSchema {
  return json(
    Type.Object({
      'event-type': Type.Literal(eventType),
      'event-id': nonEmptyString({ description: "The event's eventId: consumers deduplicate by it." }),
      'content-type': Type.Literal(CONTENT_TYPE_JSON),
      traceparent: Type.Optional(TRACEPARENT),
    }),
  );
}

/**
 * A repartition record keeps the headers of the record it came from (an event's event-type and
 * content-type, say) and gets an event id of its own, naming its origin, so the outbox keeps it
 * once and the reader drops a copy.
 */
const INTERNAL_HEADERS: JsonSchema = json(
  Type.Object({
    'event-id': nonEmptyString({ description: "Names the record it came from and its place among that record's outputs." }),
    traceparent: Type.Optional(TRACEPARENT),
  }),
);

const PRODUCT_KEY = json(Type.String({ pattern: '^[1-9][0-9]*$', description: 'The product id as a decimal string: the partition of the product.' }));
const ORDER_KEY = json(Type.String({ pattern: UUID_PATTERN, description: 'The order id (a UUID): the partition of the order.' }));

/** A schema as the plain JSON the document carries (TypeBox's symbols, such as the error wording, are left behind). */
function json(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

function event(name: string, schema: TSchema, key: JsonSchema, summary: string, description?: string): MessageContract {
  return { name, summary, ...(description === undefined ? {} : { description }), contentType: CONTENT_TYPE_JSON, payload: json(schema), headers: eventHeadersSchema(name), key };
}

const readable = (versions: readonly number[]) => `Decoders read versions ${versions.join(', ')} and return the current shape.`;

export interface ReferenceChannelOptions {
  /** Names the internal topics (the consumer group). */
  applicationId: string;
  topics: ReferenceTopics;
}

/** The channel contract of every topic of the reference topology. */
export function referenceChannels({ applicationId, topics }: ReferenceChannelOptions): ChannelContract[] {
  const outbox = 'the processor writes it to the outbox in the batch transaction; the relay publishes it after COMMIT';
  return [
    {
      topic: topics.orders,
      description: `Orders as the order source stores them, one OrderCreated each, keyed by the lead line's product. ${readable(ORDER_CREATED_READABLE_VERSIONS)} Version 1 had one productId and quantity instead of lines.`,
      messages: [event('OrderCreated', ORDER_CREATED_SCHEMA, PRODUCT_KEY, 'An order was stored.')],
      operations: [
        { action: 'send', role: 'source', summary: 'The order source publishes each order it stored (never one it did not store).' },
        { action: 'receive', role: 'processor', summary: "Order intake, at the lead product's partition." },
      ],
    },
    {
      topic: topics.restockCommands,
      description: 'Restock requests from anyone (the restock command, the restocker), keyed by product.',
      messages: [event('RestockInventory', RESTOCK_INVENTORY_SCHEMA, PRODUCT_KEY, "Add units to a product's stock.")],
      operations: [
        { action: 'send', role: 'restocker', summary: 'The restocker role and `npm run topology -- restock` ask for restocks.' },
        { action: 'receive', role: 'processor', summary: "Restock intake, re-keyed onto the product's partition." },
      ],
    },
    {
      topic: topics.cancelCommands,
      description: 'Cancellation requests from anyone (`npm run topology -- cancel`), keyed by order.',
      messages: [event('CancelOrder', CANCEL_ORDER_SCHEMA, ORDER_KEY, 'Cancel an order.')],
      operations: [
        { action: 'send', role: 'operator', summary: '`npm run topology -- cancel --order UUID` asks for a cancellation.' },
        { action: 'receive', role: 'processor', summary: "The order saga, at the order's partition." },
      ],
    },
    {
      topic: repartitionTopicName(applicationId, NODE_NAMES.productCommands),
      description: "Internal: what the product's partition is asked to do (reserve, release, restock), without the event envelope.",
      messages: [{ name: 'ProductCommand', summary: 'Reserve, release or restock at a product.', contentType: CONTENT_TYPE_JSON, payload: json(PRODUCT_COMMAND_SCHEMA), headers: INTERNAL_HEADERS, key: PRODUCT_KEY }],
      operations: [
        { action: 'send', role: 'relay', summary: `Order intake, restock intake and the saga's releases: ${outbox}.` },
        { action: 'receive', role: 'processor', summary: "Applied in arrival order at the product's partition." },
      ],
    },
    {
      topic: repartitionTopicName(applicationId, NODE_NAMES.lineResults),
      description: "Internal: what the product's partition did with each line of a multi-line order, without the event envelope.",
      messages: [{ name: 'LineResult', summary: 'A line reserved or refused.', contentType: CONTENT_TYPE_JSON, payload: json(LINE_RESULT_SCHEMA), headers: INTERNAL_HEADERS, key: ORDER_KEY }],
      operations: [
        { action: 'send', role: 'relay', summary: `The product's partition reports each line: ${outbox}.` },
        { action: 'receive', role: 'processor', summary: "The order saga collects the lines at the order's partition." },
      ],
    },
    {
      topic: topics.inventoryUpdated,
      description: `The inventory table's changelog (compacted): per product per committed batch, one InventoryUpdated. ${readable(INVENTORY_UPDATED_READABLE_VERSIONS)} Version 1 listed the decided orders, version 2 counted them; neither had a positive delta.`,
      messages: [event('InventoryUpdated', INVENTORY_UPDATED_SCHEMA, PRODUCT_KEY, "A product's stock after a batch.")],
      operations: [{ action: 'send', role: 'relay', summary: `Per product per batch: ${outbox}.` }],
      cleanupPolicy: ['compact'],
    },
    outcome(topics.ordersConfirmed, event('OrderConfirmed', ORDER_CONFIRMED_SCHEMA, ORDER_KEY, 'Every line of an order was reserved.'), outbox),
    outcome(topics.ordersRejected, event('OrderRejected', ORDER_REJECTED_SCHEMA, ORDER_KEY, 'A line of an order was refused; its reserved lines were released.'), outbox),
    outcome(topics.ordersCancelled, event('OrderCancelled', ORDER_CANCELLED_SCHEMA, ORDER_KEY, 'What a cancellation request achieved.'), outbox),
    outcome(topics.inventoryRestocked, event('InventoryRestocked', INVENTORY_RESTOCKED_SCHEMA, PRODUCT_KEY, 'A restock was applied.'), outbox),
  ];
}

function outcome(topic: string, message: MessageContract, outbox: string): ChannelContract {
  return {
    topic,
    description: `${message.name} events, each published once per fact, its event id derived from what it reports.`,
    messages: [message],
    operations: [
      { action: 'send', role: 'relay', summary: `${outbox}.` },
      { action: 'receive', role: 'operator', summary: 'The restock and cancel commands wait for their answer here; so do the verifier and other services.' },
    ],
  };
}
