/** A partition of a topic, and a partition a member has claimed: the names every layer shares. */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A partition this member owns in the database: where it resumes and the token its commits present. */
export interface ClaimedPartition extends TopicPartition {
  /** Where processing resumes: the offset stored with the last committed batch, never Kafka's committed one. */
  nextOffset: bigint;
  /** The fencing token: commits must present it, and the next claim invalidates it. */
  epoch: bigint | number;
  /** A repartition topic's partition: the watermarks its last commit stored (see CommittableBatch.originWatermarks). */
  originWatermarks?: Readonly<Record<string, string>>;
}

/**
 * Records of a partition not yet committed: its high watermark minus the committed offset. An
 * offset past the watermark (the topic was recreated, or a reset ran ahead) counts as caught up.
 */
export function partitionLag(highWatermark: bigint, committedOffset: bigint): bigint {
  return highWatermark > committedOffset ? highWatermark - committedOffset : 0n;
}
