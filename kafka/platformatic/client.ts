/** The Kafka client port on @platformatic/kafka. */
import type { Logger } from '../../core/logger.ts';
import type { GroupConsumer, GroupConsumerOptions, KafkaAdmin, KafkaClient, KafkaProducer, PartitionReader, PartitionReaderOptions } from '../port.ts';
import { PlatformaticAdmin } from './admin.ts';
import { PlatformaticGroupConsumer } from './group-consumer.ts';
import { PlatformaticPartitionReader } from './partition-reader.ts';
import { PlatformaticProducer } from './producer.ts';

let instances = 0;

export class PlatformaticKafkaClient implements KafkaClient {
  readonly name = 'platformatic' as const;
  readonly brokers: string[];
  readonly #logger: Logger;

  constructor(brokers: string[], logger: Logger) {
    this.brokers = [...brokers];
    this.#logger = logger;
  }

  async producer(options: { clientId?: string } = {}): Promise<KafkaProducer> {
    return new PlatformaticProducer(this.brokers, options.clientId ?? uniqueClientId('producer'));
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new PlatformaticGroupConsumer(this.brokers, options, this.#logger.child('consumer', { groupId: options.groupId }));
  }

  partitionReader(options: PartitionReaderOptions = {}): PartitionReader {
    return new PlatformaticPartitionReader(this.brokers, options, this.#logger.child('reader'));
  }

  async admin(): Promise<KafkaAdmin> {
    return new PlatformaticAdmin(this.brokers, uniqueClientId('admin'));
  }
}

function uniqueClientId(role: string): string {
  return `kstream-${role}-${process.pid}-${++instances}`;
}
