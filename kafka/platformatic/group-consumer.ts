/**
 * Group consumer on @platformatic/kafka. One client holds the group membership (join,
 * heartbeats, rebalances, informational commits); a separate PartitionFetcher reads the
 * assigned partitions from the positions an AssignmentTracker keeps. That split is what
 * gives per-partition start offsets and a pause that really stops fetching a partition,
 * neither of which the library's MessagesStream offers.
 */
import { Consumer, type ConsumerGroupJoinPayload, type GroupAssignment } from '@platformatic/kafka';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { AssignmentTracker } from '../assignment.ts';
import { groupTiming } from '../group-timing.ts';
import type { GroupConsumer, GroupConsumerOptions, GroupHandlers, PartitionOffset, TopicPartition } from '../port.ts';
import { FetchLoop } from './fetch-loop.ts';
import { PartitionFetcher } from './fetcher.ts';
import { deliver, resolveOutOfRange } from './delivery.ts';

export const FETCH_DEFAULTS = { maxWaitMs: 500, maxBytesPerPartition: 1_048_576 };

export class PlatformaticGroupConsumer implements GroupConsumer {
  readonly #options: GroupConsumerOptions;
  readonly #brokers: string[];
  readonly #logger: Logger;
  readonly #tracker = new AssignmentTracker();
  #member: Consumer | undefined;
  #fetcher: PartitionFetcher | undefined;
  #loop: FetchLoop | undefined;
  #handlers: GroupHandlers | undefined;
  #closed = false;

  constructor(brokers: string[], options: GroupConsumerOptions, logger: Logger) {
    this.#brokers = brokers;
    this.#options = options;
    this.#logger = logger;
  }

  async start(handlers: GroupHandlers): Promise<void> {
    if (this.#member) throw new Error('group consumer already started');
    this.#handlers = handlers;
    const clientId = this.#options.clientId ?? `${this.#options.groupId}-member`;
    const { sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs } = groupTiming(this.#options);
    const timing = { sessionTimeout: sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs, rebalanceTimeout: rebalanceTimeoutMs };
    const member = new Consumer({
      clientId,
      bootstrapBrokers: this.#brokers,
      groupId: this.#options.groupId,
      autocommit: false,
      sessionTimeout: timing.sessionTimeout,
      heartbeatInterval: timing.heartbeatInterval,
      rebalanceTimeout: timing.rebalanceTimeout,
    });
    this.#member = member;
    this.#fetcher = new PartitionFetcher({ brokers: this.#brokers, clientId: `${clientId}-fetch`, ...FETCH_DEFAULTS });
    this.#loop = new FetchLoop(
      this.#fetcher,
      {
        positions: () => this.#tracker.fetchPositions(),
        onFetched: (fetched) => deliver(this.#tracker, fetched, handlers, this.#logger),
        onOutOfRange: (partition) => resolveOutOfRange(this.#tracker, partition, handlers.onError, this.#logger),
        onError: (error) => handlers.onError(error),
      },
      this.#logger,
    );

    // 'consumer:group:join' is emitted synchronously once SyncGroup returned this member's share.
    member.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => this.#onJoin(payload.assignments ?? []));
    // The library emits 'error' when a rejoin fails; unhandled, an EventEmitter would throw it.
    member.on('error', (error: unknown) => {
      if (this.#closed) return;
      this.#logger.error('group membership failed', { error: errorMessage(error) });
      handlers.onError(error);
    });
    member.topics.trackAll(...this.#options.topics);
    await member.joinGroup(timing);
    this.#loop.start();
  }

  pause(partitions: TopicPartition[]): void {
    this.#tracker.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    if (this.#tracker.resume(partitions).length > 0) this.#loop?.wake();
  }

  assignment(): TopicPartition[] {
    return this.#tracker.assignment();
  }

  async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    if (!this.#member || offsets.length === 0) return;
    await this.#member.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset, leaderEpoch: -1 })),
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop?.stop();
    await this.#fetcher?.close();
    await this.#loop?.finished();
    await this.#member?.close();
  }

  #onJoin(assignments: GroupAssignment[]): void {
    if (this.#closed || !this.#handlers) return;
    const handlers = this.#handlers;
    const next = assignments.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
    const change = this.#tracker.assign(next);
    this.#logger.info('assignment changed', {
      added: change.added.length,
      revoked: change.revoked.length,
      owned: next.length,
    });
    if (change.revoked.length > 0) handlers.onRevoked(change.revoked);
    if (change.added.length === 0) return;
    // Through a promise even if onAssigned throws synchronously, so the failure reaches onError.
    Promise.resolve(change.added).then((added) => handlers.onAssigned(added)).then(
      (offsets) => {
        if (this.#closed) return;
        this.#tracker.start(change.round, offsets);
        const unstarted = this.#tracker.unstarted(change.round);
        if (unstarted.length > 0) this.#logger.warn('onAssigned gave no start offset; these partitions are not read', { unstarted });
        this.#loop?.wake();
      },
      (error: unknown) => {
        this.#logger.error('onAssigned failed; the new partitions are not read', { error: errorMessage(error) });
        handlers.onError(error);
      },
    );
  }
}
