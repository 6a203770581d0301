/**
 * Keeps the publication watermark honest while batches are published concurrently: the
 * watermark may only move to the last seq of a batch when that batch AND every batch stored
 * before it have been acknowledged by the broker. Batches are registered in the order they
 * were stored (which is seq order: one writer per source id stores one batch at a time).
 */
export class PublicationTracker {
  #watermark: number;
  #lastStoredSeq: number;
  /** Stored batches not yet folded into the watermark, oldest first. */
  readonly #pending: Array<{ lastSeq: number; published: boolean }> = [];

  constructor(watermark: number) {
    this.#watermark = watermark;
    this.#lastStoredSeq = watermark;
  }

  /** Highest seq such that it and every seq before it are on the topic. */
  get watermark(): number {
    return this.#watermark;
  }

  /** Orders stored but not (known to be) published. */
  get backlog(): number {
    return this.#lastStoredSeq - this.#watermark;
  }

  /** A batch `firstSeq..lastSeq` was committed; it must directly follow the previous one. */
  stored(firstSeq: number, lastSeq: number): void {
    if (firstSeq !== this.#lastStoredSeq + 1 || lastSeq < firstSeq) {
      throw new RangeError(`batch ${firstSeq}..${lastSeq} does not follow the last stored seq ${this.#lastStoredSeq}`);
    }
    this.#pending.push({ lastSeq, published: false });
    this.#lastStoredSeq = lastSeq;
  }

  /** The batch ending at `lastSeq` was acknowledged. Returns the (possibly unchanged) watermark. */
  published(lastSeq: number): number {
    const batch = this.#pending.find((entry) => entry.lastSeq === lastSeq);
    if (!batch) throw new RangeError(`no stored, unpublished batch ends at seq ${lastSeq}`);
    batch.published = true;
    while (this.#pending.length > 0 && this.#pending[0]!.published) {
      this.#watermark = this.#pending.shift()!.lastSeq;
    }
    return this.#watermark;
  }
}
