/** The runtime's public surface: what the CLI and the sinks/state adapters wire together. */

export { batchBySizeOrTime } from './batch-by-size-or-time.ts';
export type { PartitionTaskOptions, TaskState } from './partition-task.ts';
export { PartitionTask } from './partition-task.ts';
export type { StreamRuntimeOptions } from './stream-runtime.ts';
export { StreamRuntime } from './stream-runtime.ts';
export { TaskGroups } from './task-group.ts';
export type {
  BatchCommittedEvent,
  ClaimedPartition,
  CommittableBatch,
  Committer,
  DeadLetter,
  PartitionClaimer,
  PartitionStats,
  PauseReason,
  RuntimeConfig,
  RuntimeEvent,
  RuntimeStats,
  SinkOutput,
} from './types.ts';
