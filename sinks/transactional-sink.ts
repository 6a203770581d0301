/**
 * The transactional sink: everything one micro-batch of one partition produced becomes
 * durable in ONE PostgreSQL transaction, or none of it does:
 *   1. the fenced offset write (compare-and-set on epoch and expected offset) — first, so a
 *      zombie replica fails before it writes anything else, and the row lock serialises it
 *      against the partition's new owner;
 *   2. the domain effects (for the reference pipeline: inventory rows and order statuses);
 *   3. the outputs and dead letters, as outbox rows the relay publishes after COMMIT.
 * Kafka sees our offsets only through the database; nothing is published before COMMIT.
 *
 * All of it is ONE statement (data-modifying CTEs) between BEGIN and COMMIT: three round trips
 * per batch whatever it holds. Every write in the statement is guarded by the fence's result,
 * so a fenced batch writes nothing and takes no other lock; the fence runs first because the
 * statement's first output reads it.
 */
import type { Sequelize, Transaction } from 'sequelize';
import type { CommittableBatch, SinkOutput } from '../core/batch.ts';
import { FencedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { fencedError, offsetFenceCte, readOffsets } from '../state/offset-store.ts';
import type { OutboxMessage as OutboxRow } from '../state/outbox-store.ts';
import { outboxAppendCtes } from '../state/outbox-store.ts';
import { type BindParams, selectRows } from '../state/sql.ts';
import { classifyCommitError } from './commit-errors.ts';
import { deadLetterRow } from './dead-letter.ts';

/** The batch as the runtime hands it over. */
export type BatchToCommit = CommittableBatch;
export type { SinkOutput };

/** Writes a batch's domain effects inside the sink's transaction, with statements of its own. */
export type BatchEffects = (transaction: Transaction, batch: BatchToCommit) => Promise<void>;

/** Domain effects written by the sink's own commit statement: no round trip of their own. */
export interface StatementEffects {
  /**
   * The batch's writes as CTEs. Each write must hold only where `guard` (an SQL condition: the
   * offset fence passed) holds; bind names must not clash with the sink's (`offset*`, `outbox*`).
   */
  statement(batch: BatchToCommit, guard: string): EffectsStatement;
}

export interface EffectsStatement {
  ctes: string[];
  bind: BindParams;
  /** An SQL expression the statement selects; its value goes to `check`. */
  result: string;
  /** Throws when the writes must not stand (e.g. stale state): the transaction rolls back. */
  check(result: unknown): void;
}

export interface TransactionalSinkOptions {
  sequelize: Sequelize;
  group: string;
  dlqTopic: string;
  effects: BatchEffects | StatementEffects;
  logger: Logger;
}

export class TransactionalSink {
  private readonly options: TransactionalSinkOptions;

  constructor(options: TransactionalSinkOptions) {
    this.options = options;
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
    const committed = stored !== undefined && stored.epoch === BigInt(batch.epoch) && stored.nextOffset === batch.nextOffset;
    if (committed) this.options.logger.info('batch had committed on an earlier attempt', { topic: batch.topic, partition: batch.partition, offset: batch.firstOffset });
    return committed;
  }

  private async commitOnce(batch: BatchToCommit): Promise<void> {
    const { sequelize, group, dlqTopic, effects } = this.options;
    const offset = { group, topic: batch.topic, partition: batch.partition, epoch: BigInt(batch.epoch), expectedNextOffset: batch.expectedNextOffset, nextOffset: batch.nextOffset };
    const outboxRows: OutboxRow[] = [...batch.outputs.map(outputRow), ...batch.deadLetters.map((letter) => deadLetterRow(letter, dlqTopic))];
    await sequelize.transaction(async (transaction) => {
      const fence = offsetFenceCte('fence', offset);
      const guard = 'EXISTS (SELECT FROM fence)';
      const outbox = outboxAppendCtes('outboxed', outboxRows, guard);
      const domain = typeof effects === 'function' ? undefined : effects.statement(batch, guard);
      // Selecting `outboxed` is what runs the outbox's NOTIFY (delivered to the relay on COMMIT).
      const [row] = await selectRows<{ passed: boolean; outboxed: string; effects?: unknown }>(
        transaction,
        `WITH ${[fence.cte, ...outbox.ctes, ...(domain?.ctes ?? [])].join(',\n')}
         SELECT ${guard} AS passed, ${outbox.added} AS outboxed${domain ? `, ${domain.result} AS effects` : ''}`,
        mergeBinds(fence.bind, outbox.bind, domain?.bind ?? {}),
      );
      if (!row!.passed) throw await fencedError(transaction, offset);
      domain?.check(row!.effects);
      if (typeof effects === 'function') await effects(transaction, batch);
    });
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
