/**
 * Group consumer on @platformatic/kafka. One client holds the group membership (join,
 * heartbeats, rebalances, informational commits); a separate PartitionFetcher reads the
 * assigned partitions from the positions an AssignmentTracker keeps. That split is what
 * gives per-partition start offsets and a pause that really stops fetching a partition,
 * neither of which the library's MessagesStream offers.
 *
 * Two group protocols (see ../group-protocol.ts). With `classic` each join reports the whole
 * assignment; with `consumer` (KIP-848) the library updates `consumer.assignments` between
 * heartbeats, and this adapter diffs it after every heartbeat. Either way only partitions that
 * really moved reach onRevoked/onAssigned: retained partitions keep their position and keep
 * being fetched through a rebalance.
 */
import { Consumer, type ConsumerGroupJoinPayload, type GroupAssignment } from '@platformatic/kafka';
import type { KafkaGroupProtocol } from '../../core/config.ts';
import { errorMessage, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { type AssignmentChange, AssignmentTracker } from '../assignment.ts';
import { DEFAULT_GROUP_PROTOCOL, flattenAssignments, heartbeatErrorCode, KIP848_MEMBERSHIP_ERRORS, lostMembership } from '../group-protocol.ts';
import { groupTiming } from '../group-timing.ts';
import { ConsumerStoppedError, type GroupConsumer, type GroupConsumerOptions, type GroupHandlers, type PartitionOffset, type TopicPartition } from '../port.ts';
import { deliverRound, resolveOutOfRange } from './delivery.ts';
import { translating } from './errors.ts';
import { FetchLoop } from './fetch-loop.ts';
import { PartitionFetcher } from './fetcher.ts';

// 256 KiB per partition: about a thousand orders. A round over many partitions is bounded as a
// whole too (1 MiB unless the owner says otherwise): twelve partitions of tiny records would
// otherwise decode ~200,000 records in one go, several times what the runtime may hold.
export const FETCH_DEFAULTS = { maxWaitMs: 500, maxBytesPerPartition: 262_144, maxBytesPerRound: 1_048_576 };

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
  #expired = false;

  constructor(brokers: string[], options: GroupConsumerOptions, logger: Logger) {
    this.#brokers = brokers;
    this.#options = options;
    this.#logger = logger;
  }

  async start(handlers: GroupHandlers): Promise<void> {
    if (this.#member) throw new StreamError('ILLEGAL_STATE', 'group consumer already started', { context: { group: this.#options.groupId } });
    this.#handlers = handlers;
    const clientId = this.#options.clientId ?? `${this.#options.groupId}-member`;
    const { sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs } = groupTiming(this.#options);
    const timing = { sessionTimeout: sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs, rebalanceTimeout: rebalanceTimeoutMs };
    const protocol: KafkaGroupProtocol = this.#options.groupProtocol ?? DEFAULT_GROUP_PROTOCOL;
    const member = new Consumer({
      clientId,
      bootstrapBrokers: this.#brokers,
      groupId: this.#options.groupId,
      autocommit: false,
      // Under `consumer` only rebalanceTimeout reaches the broker; the other two are the broker's.
      sessionTimeout: timing.sessionTimeout,
      heartbeatInterval: timing.heartbeatInterval,
      rebalanceTimeout: timing.rebalanceTimeout,
      ...(protocol === 'consumer' ? { groupProtocol: 'consumer' as const } : {}),
    });
    this.#member = member;
    this.#fetcher = new PartitionFetcher({
      brokers: this.#brokers,
      clientId: `${clientId}-fetch`,
      ...FETCH_DEFAULTS,
      ...(this.#options.fetchMaxBytes === undefined ? {} : { maxBytesPerRound: this.#options.fetchMaxBytes }),
    });
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

    // The library emits 'error' when a rejoin fails; unhandled, an EventEmitter would throw it.
    member.on('error', (error: unknown) => {
      if (this.#closed) return;
      this.#logger.error('group membership failed', { error: errorMessage(error) });
      handlers.onError(new ConsumerStoppedError(`group membership failed: ${errorMessage(error)}`, error));
    });
    member.topics.trackAll(...this.#options.topics);
    await translating(this.#context(), async () => {
      if (protocol === 'consumer') await this.#joinWithConsumerProtocol(member);
      else {
        // 'consumer:group:join' is emitted synchronously once SyncGroup returned this member's share.
        member.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => this.#onClassicJoin(payload));
        await member.joinGroup(timing);
      }
    });
    this.#loop.start();
  }

  pause(partitions: TopicPartition[]): void {
    this.#tracker.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    if (this.#tracker.resume(partitions).length > 0) this.#loop?.wake();
  }

  seek(offsets: PartitionOffset[]): void {
    if (this.#tracker.seek(offsets).length > 0) this.#loop?.wake();
  }

  assignment(): TopicPartition[] {
    return this.#tracker.assignment();
  }

  async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    if (!this.#member || offsets.length === 0) return;
    const member = this.#member;
    await translating(this.#context(), () =>
      member.commit({ offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset, leaderEpoch: -1 })) }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop?.stop();
    await this.#fetcher?.close();
    await this.#loop?.finished();
    const member = this.#member;
    if (member) await translating(this.#context(), () => member.close());
  }

  #context(): { group: string; topics: string[] } {
    return { group: this.#options.groupId, topics: this.#options.topics };
  }

  /**
   * Under KIP-848 `joinGroup` is a no-op in this library: only `consume` sends the first
   * heartbeat. So a throwaway stream joins and is closed at once (its fetches would duplicate the
   * fetcher's). Closing a stream untracks its topics, which would empty the subscription; the
   * `trackAll` in `start` holds a second reference, so the member stays subscribed.
   */
  async #joinWithConsumerProtocol(member: Consumer): Promise<void> {
    // After a heartbeat that changed the assignment the library sends another at once, so the
    // 'end' of that one sees `consumer.assignments` updated (it resolves topic ids in between).
    const sync = () => this.#onConsumerProtocolAssignments(member);
    member.on('consumer:group:join', sync);
    member.on('consumer:heartbeat:end', sync);
    member.on('consumer:heartbeat:error', (payload: { error?: unknown }) => this.#onConsumerProtocolHeartbeatError(member, payload.error));
    const joinStream = await member.consume({ topics: this.#options.topics, autocommit: false, maxWaitTime: 10 });
    await joinStream.close();
  }

  #onConsumerProtocolAssignments(member: Consumer): void {
    if (this.#closed || !this.#handlers) return;
    const change = this.#tracker.assign(flattenAssignments(member.assignments));
    if (change.added.length === 0 && change.revoked.length === 0) return;
    this.#logger.info('assignment changed', { protocol: 'consumer', added: change.added.length, revoked: change.revoked.length, owned: this.#tracker.assignment().length });
    this.#report(change, change.revoked);
  }

  #onConsumerProtocolHeartbeatError(member: Consumer, error: unknown): void {
    if (this.#closed || !this.#handlers) return;
    const code = heartbeatErrorCode(error);
    // FENCED_MEMBER_EPOCH: the library already emptied `assignments` and rejoins by itself; what it
    // owned may be with another member now, so report it revoked (it comes back as newly assigned).
    if (code === KIP848_MEMBERSHIP_ERRORS.FENCED_MEMBER_EPOCH) {
      this.#logger.warn('member fenced by the group coordinator; rejoining');
      this.#onConsumerProtocolAssignments(member);
      return;
    }
    // UNKNOWN_MEMBER_ID (the session expired, e.g. after a long pause): this library version keeps
    // heartbeating with the dead member id instead of rejoining, so the member is useless. Say so.
    if (code === KIP848_MEMBERSHIP_ERRORS.UNKNOWN_MEMBER_ID && !this.#expired) {
      this.#expired = true;
      const revoked = this.#tracker.assign([]).revoked;
      if (revoked.length > 0) this.#handlers.onRevoked(revoked);
      this.#handlers.onError(new ConsumerStoppedError('consumer group session expired (UNKNOWN_MEMBER_ID) and the client does not rejoin', error));
    }
  }

  #onClassicJoin(payload: ConsumerGroupJoinPayload): void {
    if (this.#closed || !this.#handlers) return;
    const assignments: GroupAssignment[] = payload.assignments ?? [];
    const next = flattenAssignments(assignments);
    // A member dropped from the group (new member id) or that missed a generation may have had its
    // partitions claimed by another member in between: what looks retained is newly assigned, and
    // must be reported as revoked and assigned again, or a partition fenced meanwhile stays halted.
    const current = { memberId: payload.memberId, generationId: payload.generationId };
    const lost = lostMembership(this.#lastJoin, current);
    this.#lastJoin = current;
    const dropped = lost ? this.#tracker.assign([]).revoked : [];
    const change = this.#tracker.assign(next);
    const revoked = [...dropped, ...change.revoked];
    this.#logger.info('assignment changed', {
      added: change.added.length,
      revoked: revoked.length,
      owned: next.length,
      ...(lost ? { lostMembership: lost, memberId: payload.memberId, generationId: payload.generationId } : {}),
    });
    this.#report(change, revoked);
  }

  /** Tells the runtime what moved; fetching of added partitions starts once onAssigned said where. */
  #report(change: AssignmentChange, revoked: TopicPartition[]): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    if (revoked.length > 0) handlers.onRevoked(revoked);
    if (change.added.length === 0) return;
    // Through a promise even if onAssigned throws synchronously, so the failure reaches onError.
    Promise.resolve(change.added).then((added) => handlers.onAssigned(added)).then(
      (offsets) => {
        if (this.#closed) return;
        this.#tracker.start(change.round, offsets);
        const unstarted = this.#tracker.unstarted(change.round);
        if (unstarted.length > 0) this.#logger.info('partitions without a start offset wait until seek() gives one', { unstarted });
        this.#loop?.wake();
      },
      (error: unknown) => {
        this.#logger.error('onAssigned failed; the new partitions are not read', { error: errorMessage(error) });
        handlers.onError(error);
      },
    );
  }
}
