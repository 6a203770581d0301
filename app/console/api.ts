/**
 * The console's HTTP API: every route, each a thin handler over a query module of its own.
 * The shapes are the contract with the page (see the README's console section).
 */
import type { Sequelize } from 'sequelize';
import type { TopologyDescription } from '../../topology/describe/index.ts';
import { streamSnapshots } from './event-stream.ts';
import type { Handler } from './http-server.ts';
import { parkedRows, parseRetryBody, retryParked } from './outbox-api.ts';
import type { Route } from './routes.ts';
import type { SnapshotFeed } from './snapshot-feed.ts';

export interface ApiDeps {
  group: string;
  description: TopologyDescription;
  sequelize: Sequelize;
  feed: SnapshotFeed;
}

export function apiRoutes(deps: ApiDeps): Array<Route<Handler>> {
  return [
    { method: 'GET', pattern: '/api/topology', handler: async () => ({ json: { group: deps.group, description: deps.description } }) },
    { method: 'GET', pattern: '/api/snapshot', handler: async () => ({ json: await deps.feed.latest() }) },
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
  ];
}
