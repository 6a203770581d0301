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
}
