/** Reads given partitions from given offsets with @platformatic/kafka, outside any group. */
import { StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { AssignmentTracker } from '../assignment.ts';
import type { PartitionOffset, PartitionReader, PartitionReaderOptions, RecordBatch } from '../port.ts';
import { deliverRound, resolveOutOfRange } from './delivery.ts';
import { FetchLoop } from './fetch-loop.ts';
import { PartitionFetcher } from './fetcher.ts';
import { FETCH_DEFAULTS } from './group-consumer.ts';

let readers = 0;

export class PlatformaticPartitionReader implements PartitionReader {
  readonly #brokers: string[];
  readonly #options: PartitionReaderOptions;
  readonly #logger: Logger;
  #fetcher: PartitionFetcher | undefined;
  #loop: FetchLoop | undefined;

  constructor(brokers: string[], options: PartitionReaderOptions, logger: Logger) {
    this.#brokers = brokers;
    this.#options = options;
    this.#logger = logger;
  }

  async start(starts: PartitionOffset[], onBatch: (batch: RecordBatch) => void): Promise<void> {
    if (this.#loop) throw new StreamError('ILLEGAL_STATE', 'partition reader already started');
    const tracker = new AssignmentTracker();
    tracker.start(tracker.assign(starts).round, starts);
    const clientId = this.#options.clientId ?? `partition-reader-${process.pid}-${++readers}`;
    this.#fetcher = new PartitionFetcher({ brokers: this.#brokers, clientId, ...FETCH_DEFAULTS });
    const onError = (error: unknown) => this.#logger.error('partition reader cannot read', { error: String(error) });
    this.#loop = new FetchLoop(
      this.#fetcher,
      {
        positions: () => tracker.fetchPositions(),
        onFetched: (round) => deliverRound(tracker, round, { onBatch, onError }, this.#logger),
        onOutOfRange: (partition) => resolveOutOfRange(tracker, partition, onError, this.#logger),
        onError,
      },
      this.#logger,
    );
    this.#loop.start();
  }

  async close(): Promise<void> {
    this.#loop?.stop();
    await this.#fetcher?.close();
    await this.#loop?.finished();
  }
}
