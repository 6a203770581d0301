import type { Histogram } from 'hdr-histogram-js';
import * as hdr from 'hdr-histogram-js';

/** Publish latency percentiles in milliseconds. */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** The smallest latency seen: the pipeline's fixed delay. */
  min: number;
  count: number;
}

/** An hour in microseconds: the largest latency recorded exactly; larger values are clamped. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

/**
 * Publish latency of every order, measured from its *intended* send time (open loop) to the
 * broker's acknowledgement of its batch, kept in HDR histograms at microsecond resolution:
 * one for the whole run, one for the current progress interval.
 */
export class LatencyRecorder {
  readonly #total = newHistogram();
  #interval = newHistogram();

  /** Orders `firstIndex .. firstIndex+count-1` of a schedule whose order i was due at `intendedAt(i)`, all acked at `ackMs`. */
  recordBatch(intendedAt: (index: number) => number, firstIndex: number, count: number, ackMs: number): void {
    for (let index = firstIndex; index < firstIndex + count; index++) {
      const micros = Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round((ackMs - intendedAt(index)) * 1000)));
      this.#total.recordValue(micros);
      this.#interval.recordValue(micros);
    }
  }

  total(): LatencyPercentiles {
    return percentilesOf(this.#total);
  }

  /** Percentiles since the previous call, then starts a new interval. */
  takeInterval(): LatencyPercentiles {
    const result = percentilesOf(this.#interval);
    this.#interval = newHistogram();
    return result;
  }
}

function percentilesOf(histogram: Histogram): LatencyPercentiles {
  const ms = (micros: number) => Math.round(micros) / 1000;
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0, count: 0 };
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    min: ms(histogram.minNonZeroValue),
    count: histogram.totalCount,
  };
}
