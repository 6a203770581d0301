/** The Kafka client port on kafkajs 2.2.4. */
import { Kafka } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import type { GroupConsumer, GroupConsumerOptions, KafkaAdmin, KafkaClient, KafkaProducer, PartitionReader, PartitionReaderOptions } from '../port.ts';
import { KafkajsAdmin } from './admin.ts';
import { KafkajsGroupConsumer } from './group-consumer.ts';
import { KAFKAJS_LOG_LEVEL, kafkajsLogCreator } from './logging.ts';
import { KafkajsPartitionReader } from './partition-reader.ts';
import { KafkajsProducer } from './producer.ts';

let instances = 0;
let warnedGroupProtocol = false;

export class KafkajsKafkaClient implements KafkaClient {
  readonly name = 'kafkajs' as const;
  readonly brokers: string[];
  readonly #logger: Logger;

  constructor(brokers: string[], logger: Logger) {
    this.brokers = [...brokers];
    this.#logger = logger;
  }

  async producer(options: { clientId?: string } = {}): Promise<KafkaProducer> {
    const producer = new KafkajsProducer(this.#kafka(options.clientId ?? uniqueClientId('producer'), 'producer'));
    await producer.connect();
    return producer;
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    const clientId = options.clientId ?? `${options.groupId}-member`;
    const logger = this.#logger.child('consumer', { groupId: options.groupId });
    if (options.groupProtocol === 'consumer' && !warnedGroupProtocol) {
      warnedGroupProtocol = true;
      logger.warn('kafkajs supports only the classic group protocol; groupProtocol=consumer is ignored');
    }
    return new KafkajsGroupConsumer(this.#kafka(clientId, 'consumer'), options, logger);
  }

  partitionReader(options: PartitionReaderOptions = {}): PartitionReader {
    const clientId = options.clientId ?? uniqueClientId('reader');
    return new KafkajsPartitionReader(this.#kafka(clientId, 'reader'), options, this.#logger.child('reader'));
  }

  async admin(): Promise<KafkaAdmin> {
    const admin = new KafkajsAdmin(this.#kafka(uniqueClientId('admin'), 'admin'));
    await admin.connect();
    return admin;
  }

  #kafka(clientId: string, role: string): Kafka {
    return new Kafka({
      clientId,
      brokers: this.brokers,
      // kafkajs backs off up to 30 s between attempts by default: after an outage the first
      // reconnect could then come half a minute after the broker is back. 5 s bounds that wait.
      retry: { maxRetryTime: 5_000 },
      logLevel: KAFKAJS_LOG_LEVEL,
      logCreator: kafkajsLogCreator(this.#logger.child(`kafkajs.${role}`)),
    });
  }
}

function uniqueClientId(role: string): string {
  return `kstream-${role}-${process.pid}-${++instances}`;
}
