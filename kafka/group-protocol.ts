/**
 * What the consumer group protocols differ in, as far as an adapter is concerned. Pure logic.
 *
 * - `classic`: JoinGroup/SyncGroup. Every rebalance is a stop-the-world barrier for all members,
 *   and each join reports the member's whole assignment.
 * - `consumer` (KIP-848): the broker computes assignments and moves partitions one member at a
 *   time through heartbeats; a member's assignment changes between two heartbeats, with no join.
 *   Session timeout and heartbeat interval are the broker's (group.consumer.* settings).
 */
import type { KafkaGroupProtocol } from '../core/config.ts';
import { sortPartitions } from './assignment.ts';
import type { TopicPartition } from './port.ts';

export const DEFAULT_GROUP_PROTOCOL: KafkaGroupProtocol = 'classic';

/** A library's per-topic assignment list, flattened into partitions in a stable order. */
export function flattenAssignments(assignments: ReadonlyArray<{ topic: string; partitions: readonly number[] }> | null | undefined): TopicPartition[] {
  return sortPartitions((assignments ?? []).flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition }))));
}

/**
 * Whether a member that joined as `previous` and now reports `current` may have lost its partitions
 * in between (a new member id, or a skipped classic generation), so that retained-looking
 * partitions must be treated as revoked and assigned anew.
 */
export function lostMembership(
  previous: { memberId: string; generationId: number | undefined } | undefined,
  current: { memberId: string; generationId: number | undefined },
): boolean {
  if (previous === undefined) return false;
  if (current.memberId !== previous.memberId) return true;
  // The library may report one generation twice; that is no gap.
  return current.generationId !== undefined && previous.generationId !== undefined && current.generationId > previous.generationId + 1;
}

/** Kafka error codes a KIP-848 heartbeat answers with when the member lost its partitions. */
export const KIP848_MEMBERSHIP_ERRORS = { UNKNOWN_MEMBER_ID: 25, FENCED_MEMBER_EPOCH: 110 } as const;

/** The error code of a failed heartbeat, when the broker answered with one. */
export function heartbeatErrorCode(error: unknown): number | undefined {
  const response = (error as { response?: { errorCode?: unknown } } | undefined)?.response;
  return typeof response?.errorCode === 'number' ? response.errorCode : undefined;
}
