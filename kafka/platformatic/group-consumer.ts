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
import { deliverRound, resolveOutOfRange } from './delivery.ts';

// 256 KiB per partition: about a thousand orders, so one round over 12 partitions stays near the
// runtime's in-flight bounds instead of decoding several times more records than it may hold.
export const FETCH_DEFAULTS = { maxWaitMs: 500, maxBytesPerPartition: 262_144 };

export class PlatformaticGroupConsumer implements GroupConsumer {
  readonly #options: GroupConsumerOptions;
  readonly #brokers: string[];
  readonly #logger: Logger;
  readonly #tracker = new AssignmentTracker();
  #member: Consumer | undefined;
  #fetcher: PartitionFetcher | undefined;
  #loop: FetchLoop | undefined;
  #handlers: GroupHandlers | undefined;
  #lastJoin: { memberId: string; generationId: number | undefined } | undefined;
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
        onFetched: (round) => deliverRound(this.#tracker, round, handlers, this.#logger),
        onOutOfRange: (partition) => resolveOutOfRange(this.#tracker, partition, handlers.onError, this.#logger),
        onError: (error) => handlers.onError(error),
      },
      this.#logger,
    );

    // 'consumer:group:join' is emitted synchronously once SyncGroup returned this member's share.
    member.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => this.#onJoin(payload));
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

  #onJoin(payload: ConsumerGroupJoinPayload): void {
    if (this.#closed || !this.#handlers) return;
    const handlers = this.#handlers;
    const assignments: GroupAssignment[] = payload.assignments ?? [];
    const next = assignments.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
    // A member dropped from the group (new member id) or that missed a generation may have had its
    // partitions claimed by another member in between: what looks retained is newly assigned, and
    // must be reported as revoked and assigned again, or a partition fenced meanwhile stays halted.
    // (The library may report one generation twice; that is no gap.)
    const previous = this.#lastJoin;
    const lostMembership =
      previous !== undefined &&
      (payload.memberId !== previous.memberId ||
        (payload.generationId !== undefined && previous.generationId !== undefined && payload.generationId > previous.generationId + 1));
    this.#lastJoin = { memberId: payload.memberId, generationId: payload.generationId };
    const dropped = lostMembership ? this.#tracker.assign([]).revoked : [];
    const change = this.#tracker.assign(next);
    const revoked = [...dropped, ...change.revoked];
    this.#logger.info('assignment changed', {
      added: change.added.length,
      revoked: revoked.length,
      owned: next.length,
      ...(lostMembership ? { lostMembership, memberId: payload.memberId, generationId: payload.generationId } : {}),
    });
    if (revoked.length > 0) handlers.onRevoked(revoked);
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
