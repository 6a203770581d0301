/**
 * What the order source needs from the outside world, as narrow ports, so the pipeline can
 * be exercised with fakes (unit tests inject failures) and wired to PostgreSQL and Kafka in
 * production (postgres-ledger.ts, the CLI).
 */
import type { GeneratedOrder } from '../../processors/order-generator.ts';

/** An order as the source stores and publishes it. */
export interface SourceOrder extends GeneratedOrder {
  /** Position in this source's sequence: 1, 2, 3, ... without gaps, committed in order. */
  seq: number;
  /** Creation time (epoch ms); also the event's `occurredAt`, so a re-publish is identical. */
  createdAtMs: number;
}

/** The source's orders and publication watermark in the database. */
export interface OrderLedger {
  /** The seq the next stored order gets (1 for a new source). */
  nextSeq(): Promise<number>;
  /** Every stored order with seq <= this is known to be on the topic (0 for a new source). */
  publishedSeq(): Promise<number>;
  /** Stores a batch of consecutive seqs in ONE transaction: all of it or none. */
  insert(orders: readonly SourceOrder[]): Promise<void>;
  /** Stored orders with seq > afterSeq, in seq order, at most `limit`. */
  readUnpublished(afterSeq: number, limit: number): Promise<SourceOrder[]>;
  /** Moves the watermark up to `seq` (never down). */
  advancePublished(seq: number): Promise<void>;
}

/** Sends a batch and resolves once the broker acknowledged all of it (acks=all, idempotent). */
export interface OrderPublisher {
  publish(orders: readonly SourceOrder[]): Promise<void>;
}

/** Proof that this process is the only writer of its source id (see source-lock.ts). */
export interface SourceOwnership {
  /**
   * Resolves when ownership is held (true when it was re-acquired just now: another writer may
   * have had it meanwhile), or throws when it is not.
   */
  ensureHeld(): Promise<boolean>;
  /**
   * Aborts when ownership is lost while running; its reason is the error the run fails with.
   * The source then stops storing at once, instead of at its next write.
   */
  readonly lost?: AbortSignal;
}
