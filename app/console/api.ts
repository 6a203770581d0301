/**
 * The console's HTTP API: every route, each a thin handler over a query module of its own.
 * The shapes are the contract with the page (see the README's console section).
 */
import { errorMessage } from '../../core/errors.ts';
import { redactSecrets } from '../../core/redact.ts';
import type { TopologyDescription } from '../../topology/describe/index.ts';
import { type DeadLetterDeps, deadLetterDetail, listDeadLetters, parseLetterPosition, parseLimit } from './dead-letters.ts';
import { streamSnapshots } from './event-stream.ts';
import { type Handler, HttpError } from './http-server.ts';
import { parkedRows, parseRetryBody, retryParked } from './outbox-api.ts';
import { lookUpOrder, type OrderTopics, parseOrderId } from './order-lookup.ts';
import { lookUpProduct, parseProductId } from './product-lookup.ts';
import { parseReplayBody, replayDeadLetters } from './replay.ts';
import type { Route } from './routes.ts';
import type { SnapshotFeed } from './snapshot-feed.ts';

export interface ApiDeps extends DeadLetterDeps {
  topics: OrderTopics;
  inventoryTopic: string;
  group: string;
  description: TopologyDescription;
  feed: SnapshotFeed;
}

export function apiRoutes(deps: ApiDeps): Array<Route<Handler>> {
  return [
    { method: 'GET', pattern: '/api/topology', handler: async () => ({ json: { group: deps.group, description: deps.description } }) },
    {
      method: 'GET',
      pattern: '/api/snapshot',
      handler: async () => ({
        json: await deps.feed.latest().catch((error: unknown) => {
          throw new HttpError(503, `no snapshot yet: ${redactSecrets(errorMessage(error).split('\n')[0] ?? '')}`);
        }),
      }),
    },
    {
      method: 'GET',
      pattern: '/api/events',
      handler: async ({ request, response }) => {
        streamSnapshots(deps.feed, request, response);
        return undefined;
      },
    },
    { method: 'GET', pattern: '/api/outbox/parked', handler: async () => ({ json: await parkedRows(deps.sequelize) }) },
    { method: 'POST', pattern: '/api/outbox/retry', handler: async ({ json }) => ({ json: await retryParked(deps.sequelize, parseRetryBody(await json())) }) },
    { method: 'GET', pattern: '/api/dead-letters', handler: async ({ query }) => ({ json: await listDeadLetters(deps, parseLimit(query.get('limit'))) }) },
    // Before the capture below, which would read `replay` as a partition.
    { method: 'POST', pattern: '/api/dead-letters/replay', handler: async ({ json }) => ({ json: await replayDeadLetters(deps, parseReplayBody(await json())) }) },
    { method: 'GET', pattern: '/api/orders/:orderId', handler: async ({ params }) => ({ json: await lookUpOrder(deps, parseOrderId(params.orderId!)) }) },
    { method: 'GET', pattern: '/api/products/:productId', handler: async ({ params }) => ({ json: await lookUpProduct(deps, parseProductId(params.productId!)) }) },
    { method: 'GET', pattern: '/api/dead-letters/:partition/:offset', handler: async ({ params }) => ({ json: await deadLetterDetail(deps, parseLetterPosition(params.partition, params.offset)) }) },
  ];
}
