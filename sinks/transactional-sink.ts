/**
 * The transactional sink: everything one micro-batch of one partition produced becomes
 * durable in ONE PostgreSQL transaction, or none of it does:
 *   1. the fenced offset write (compare-and-set on epoch and expected offset) — first, so a
 *      zombie replica fails before it writes anything else, and the row lock serialises it
 *      against the partition's new owner;
 *   2. every store's changes, each written by its backend (state/table-store.ts) with a
 *      compare-and-set on the values the batch read, so a change made meanwhile (an operator's
 *      hand edit) is reported stale instead of overwritten;
 *   3. the outputs and dead letters, as outbox rows the relay publishes after COMMIT.
 * Kafka sees our offsets only through the database; nothing is published before COMMIT.
 *
 * All of it is ONE statement (data-modifying CTEs) between BEGIN and COMMIT: three round trips
 * per batch whatever it holds. Every write in the statement is guarded by the fence's result,
 * so a fenced batch writes nothing and takes no other lock; the fence runs first because the
 * statement's first output reads it. The sink knows no table: the stores do.
 */
import type { Sequelize } from 'sequelize';
import type { CommittableBatch, SinkOutput } from '../core/batch.ts';
import { FencedError, StreamError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkOptions } from '../core/options.ts';
import { fencedError, offsetFenceCte, readOffsets } from '../state/offset-store.ts';
import type { OutboxMessage as OutboxRow } from '../state/outbox-store.ts';
import { outboxAppendCtes } from '../state/outbox-store.ts';
import { type BindParams, selectRows } from '../state/sql.ts';
import type { StoreWriter } from '../state/table-store.ts';
import { classifyCommitError } from './commit-errors.ts';
import { deadLetterRow } from './dead-letter.ts';

/** The batch as the runtime hands it over. */
export type BatchToCommit = CommittableBatch;
export type { SinkOutput };

export interface TransactionalSinkOptions {
  sequelize: Sequelize;
  group: string;
  dlqTopic: string;
  /** The backends of the topology's stores (tableStore): each writes its store's changes. */
  stores: readonly StoreWriter[];
  logger: Logger;
}

export class TransactionalSink {
  private readonly options: TransactionalSinkOptions;

  private readonly stores: ReadonlyMap<string, StoreWriter>;

  constructor(options: TransactionalSinkOptions) {
    checkOptions('TransactionalSink', options, { sequelize: 'object', group: 'non-empty-string', dlqTopic: 'non-empty-string', stores: 'object', logger: 'object' }, [
      'sequelize',
      'group',
      'dlqTopic',
      'stores',
      'logger',
    ]);
    this.options = options;
    this.stores = new Map(options.stores.map((store) => [store.name, store]));
    const prefixes = new Map<string, string>();
    for (const store of options.stores) {
      const other = prefixes.get(store.prefix);
      if (other !== undefined) throw new TypeError(`stores "${other}" and "${store.name}" both name their SQL "${store.prefix}": rename one`);
      prefixes.set(store.prefix, store.name);
    }
  }

  async commit(batch: BatchToCommit): Promise<void> {
    try {
      await this.commitOnce(batch);
    } catch (error) {
      if (error instanceof FencedError && (await this.alreadyCommitted(batch))) return;
      throw classifyCommitError(error);
    }
  }

  /**
   * A retry after an ambiguous failure (the connection dropped after COMMIT was sent) finds the
   * offset already moved. If it moved to exactly this batch's end under this task's own epoch,
   * the earlier attempt committed — only the epoch holder can write it — and the retry's
   * rolled-back transaction changed nothing: success, not a fence.
   */
  private async alreadyCommitted(batch: BatchToCommit): Promise<boolean> {
    const stored = (await readOffsets(this.options.sequelize, this.options.group, batch.topic)).find((row) => row.partition === batch.partition);
    // A batch with an id is recognised by it: one that moves no offset (a punctuation's) could
    // not be told from the offset alone.
    const committed =
      stored !== undefined &&
      stored.epoch === BigInt(batch.epoch) &&
      stored.nextOffset === batch.nextOffset &&
      (batch.commitId === undefined || stored.lastCommitId === batch.commitId);
    if (committed) this.options.logger.info('batch had committed on an earlier attempt', { topic: batch.topic, partition: batch.partition, offset: batch.firstOffset });
    return committed;
  }

  private async commitOnce(batch: BatchToCommit): Promise<void> {
    const { sequelize, group, dlqTopic } = this.options;
    const offset = {
      group,
      topic: batch.topic,
      partition: batch.partition,
      epoch: BigInt(batch.epoch),
      expectedNextOffset: batch.expectedNextOffset,
      nextOffset: batch.nextOffset,
      ...(batch.originWatermarks ? { originWatermarks: batch.originWatermarks } : {}),
      ...(batch.commitId ? { commitId: batch.commitId } : {}),
    };
    const outboxRows: OutboxRow[] = [...batch.outputs.map(outputRow), ...batch.deadLetters.map((letter) => deadLetterRow(letter, dlqTopic))];
    await sequelize.transaction(async (transaction) => {
      const fence = offsetFenceCte('fence', offset);
      const guard = 'EXISTS (SELECT FROM fence)';
      const outbox = outboxAppendCtes('outboxed', outboxRows, guard);
      const writes = [...batch.storeChanges]
        .filter(([, changes]) => changes.length > 0)
        .map(([name, changes]) => this.writerOf(name).writeStatement(changes, { guard, partition: batch.partition }));
      // Selecting `outboxed` is what runs the outbox's NOTIFY (delivered to the relay on COMMIT).
      const [row] = await selectRows<Record<string, unknown> & { passed: boolean }>(
        transaction,
        `WITH ${[fence.cte, ...outbox.ctes, ...writes.flatMap((write) => write.ctes)].join(',\n')}
         SELECT ${[`${guard} AS passed`, `${outbox.added} AS outboxed`, ...writes.map((write, i) => `${write.result} AS store${i}`)].join(', ')}`,
        mergeBinds(fence.bind, outbox.bind, ...writes.map((write) => write.bind)),
      );
      if (!row!.passed) throw await fencedError(transaction, offset);
      for (const [i, write] of writes.entries()) write.check(row![`store${i}`]);
    });
  }

  /**
   * A store the sink was not given is a wiring mistake, not the batch's fault: reported
   * retriable, so the partition waits (and says why) instead of dead-lettering every record.
   */
  private writerOf(name: string): StoreWriter {
    const store = this.stores.get(name);
    if (store === undefined) throw new StreamError('TOPOLOGY_INVALID', `the batch changes store "${name}", which the transactional sink has no backend for`, { retriable: true });
    return store;
  }
}

function mergeBinds(...parts: BindParams[]): BindParams {
  const merged: BindParams = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (name in merged) throw new TypeError(`bind parameter $${name} is used by two parts of the commit statement`);
      merged[name] = value;
    }
  }
  return merged;
}

function outputRow(output: SinkOutput): OutboxRow {
  const eventId = output.headers['event-id'];
  if (!eventId) throw new TypeError(`sink ${output.sink}: output for ${output.topic} has no event-id header; outbox rows need a deterministic id`);
  return { eventId, topic: output.topic, key: output.key, payload: output.value, headers: output.headers };
}
