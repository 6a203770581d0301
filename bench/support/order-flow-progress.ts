/**
 * How far the order flow is from done, read from the database and the broker: the lag of every
 * sub-topology (its stored offsets against its topics' high watermarks, internal topics
 * included, computed as `topology status` computes it: app/status.ts) and the orders not yet
 * decided. The flow is caught up when both are zero: every order decided and nothing left on
 * any topic the topology reads (a release, a late line result).
 */
import type { Sequelize } from 'sequelize';
import { referenceTopology, type TopologyConfig } from '../../app/processor-app.ts';
import { type SubtopologyTopics, subtopologyTopics, totalLag } from '../../app/status.ts';
import type { AppConfig } from '../../core/config.ts';
import type { KafkaAdmin } from '../../kafka/port.ts';
import type { OrderStatus } from '../../processors/order-flow.ts';
import { memoryStores } from '../../processors/reference-pipeline.ts';
import { countOrdersByStatus } from '../../state/commerce/order-store.ts';

/** Orders by status, every status of the flow (0 when none). */
export type OrderOutcome = Record<OrderStatus, number>;

export interface OrderFlowProgress {
  /** The sub-topologies and the topics they read. */
  subtopologies: SubtopologyTopics[];
  /** Total lag over every sub-topology, as `topology status` reports it. */
  lag(): Promise<bigint>;
  /**
   * True once no sub-topology lags and no order is pending or reserving. The orders are counted
   * only when the lag is zero: a count reads the whole orders table, which would weigh on the
   * run being measured if it came with every poll.
   */
  caughtUp(): Promise<boolean>;
}

export function orderFlowProgress(deps: { sequelize: Sequelize; admin: KafkaAdmin; config: TopologyConfig & Pick<AppConfig, 'dlqTopic'> }): OrderFlowProgress {
  const { sequelize, admin, config } = deps;
  const subtopologies = subtopologyTopics(referenceTopology(config, memoryStores()));
  const topics = subtopologies.flatMap((subtopology) => subtopology.topics);
  const lag = () => totalLag({ sequelize, admin, group: config.consumerGroup, topics });
  return {
    subtopologies,
    lag,
    async caughtUp() {
      if ((await lag()) !== 0n) return false;
      return undecided(await orderOutcome(sequelize)) === 0;
    },
  };
}

/** The orders by status. */
export function orderOutcome(sequelize: Sequelize): Promise<OrderOutcome> {
  return countOrdersByStatus(sequelize);
}

/** Orders the flow has not decided yet. */
export function undecided(outcome: OrderOutcome): number {
  return outcome.pending + outcome.reserving;
}
