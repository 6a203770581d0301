/**
 * The console beside a running pipeline (`topology run --console-port`) or on its own
 * (`npm run console`): the snapshot feed and the HTTP server over the same services.
 */
import type { AppConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { memoryStores } from '../../processors/reference-pipeline.ts';
import { describeTopology } from '../../topology/describe/index.ts';
import type { Services } from '../bootstrap.ts';
import { referenceTopology } from '../processor-app.ts';
import { outcomeTopicsOf, subtopologyTopics } from '../status.ts';
import { apiRoutes } from './api.ts';
import { serveConsole } from './http-server.ts';
import { startSnapshotFeed } from './snapshot-feed.ts';

export const DEFAULT_CONSOLE_PORT = 8088;
export const DEFAULT_INTERVAL_MS = 1000;

export interface RunningConsole {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startConsole(config: AppConfig, services: Pick<Services, 'sequelize' | 'kafka' | 'admin'>, options: { port: number; intervalMs?: number; logger: Logger }): Promise<RunningConsole> {
  const topology = referenceTopology(config, memoryStores());
  const description = describeTopology(topology);
  const subtopologies = subtopologyTopics(topology);
  const logger = options.logger.child('console');
  const feed = startSnapshotFeed(
    { sequelize: services.sequelize, admin: services.admin, group: config.consumerGroup, subtopologies, description, dlqTopic: config.dlqTopic, outcomeTopics: outcomeTopicsOf(config) },
    { intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS, logger },
  );
  const server = await serveConsole({ port: options.port, routes: apiRoutes({ group: config.consumerGroup, description, sequelize: services.sequelize, kafka: services.kafka, admin: services.admin, dlqTopic: config.dlqTopic, inventoryTopic: config.inventoryTopic, topics: config, feed }), logger }).catch(async (error: unknown) => {
    await feed.stop();
    throw error;
  });
  return {
    url: server.url,
    port: server.port,
    async stop() {
      await server.close();
      await feed.stop();
    },
  };
}
