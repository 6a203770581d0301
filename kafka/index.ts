/** Picks the Kafka client adapter named by the configuration. */
import type { KafkaClientName } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { KafkajsKafkaClient } from './kafkajs/client.ts';
import { PlatformaticKafkaClient } from './platformatic/client.ts';
import type { KafkaClient } from './port.ts';

export function createKafkaClient(config: { kafkaClient: KafkaClientName; kafkaBrokers: string[] }, logger: Logger): KafkaClient {
  const adapterLogger = logger.child('kafka', { client: config.kafkaClient });
  switch (config.kafkaClient) {
    case 'platformatic':
      return new PlatformaticKafkaClient(config.kafkaBrokers, adapterLogger);
    case 'kafkajs':
      return new KafkajsKafkaClient(config.kafkaBrokers, adapterLogger);
    default: {
      const unknown: never = config.kafkaClient;
      throw new TypeError(`unknown Kafka client ${String(unknown)}`);
    }
  }
}

export { partitionForKey } from './murmur2.ts';
export type * from './port.ts';
