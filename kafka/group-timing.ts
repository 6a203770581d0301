/** Group membership timing shared by both adapters, with the broker's constraints applied. */
import type { GroupConsumerOptions } from './port.ts';

/** Defaults sized for fast failover in a small cluster; the broker must allow the session timeout. */
export const GROUP_TIMING_DEFAULTS = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000 };

export interface GroupTiming {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

export function groupTiming(options: Pick<GroupConsumerOptions, 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'rebalanceTimeoutMs'>): GroupTiming {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? GROUP_TIMING_DEFAULTS.sessionTimeoutMs;
  return {
    sessionTimeoutMs,
    // A heartbeat must come well within the session timeout, or the member is dropped between two.
    heartbeatIntervalMs: Math.min(options.heartbeatIntervalMs ?? GROUP_TIMING_DEFAULTS.heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 3)),
    // The broker (and @platformatic/kafka's option check) require rebalance timeout >= session timeout.
    rebalanceTimeoutMs: Math.max(options.rebalanceTimeoutMs ?? GROUP_TIMING_DEFAULTS.rebalanceTimeoutMs, sessionTimeoutMs),
  };
}
