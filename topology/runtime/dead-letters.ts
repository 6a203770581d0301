/**
 * Dead letters as the task builds them: a record that cannot be processed, with the node that
 * failed and why, ready for the committer to store in the same transaction as its offset.
 */
import { errorMessage } from '../../core/errors.ts';
import type { ConsumedRecord } from '../../kafka/port.ts';
import { errorClassOf, type NodeFailure } from './task-graph.ts';
import type { DeadLetter } from './types.ts';

export function deadLetterOf(record: ConsumedRecord, failure: NodeFailure): DeadLetter {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value: record.value,
    headers: record.headers,
    errorClass: errorClassOf(failure.cause),
    message: errorMessage(failure.cause),
    node: failure.node,
    timestamp: record.timestamp,
  };
}
