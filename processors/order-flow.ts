/**
 * The order flow's rules, pure: how an order's progress (its row in `orders`) moves when its
 * OrderCreated, a line result or a cancellation request arrives, and what each step asks the
 * rest of the pipeline to do — lines to reserve, reserved lines to release, outcome events.
 * The processors (order-intake.ts, order-saga.ts) apply the steps to their stores.
 *
 * An order is all-or-nothing across partitions (a saga): each line is reserved or refused at
 * its product's partition, in that partition's order; when every line has reported, the order
 * is confirmed if all were reserved, and otherwise rejected and its reserved lines released. A
 * one-line order needs no saga: it is decided at its product's partition at once, by the same
 * rule as ever (accepted if and only if the stock suffices at its turn).
 *
 * Cancellation: a confirmed order is cancelled and its lines released; an undecided one
 * remembers the request and is cancelled when it would have been confirmed (its stock released
 * at once), so a cancelled order never keeps stock; anything else changes nothing and says why.
 * Every request gets exactly one OrderCancelled, every order exactly one decision.
 */
import type { LineResult, ProductCommand, ReleaseCause } from './commands.ts';
import type { OrderLine, RejectionReason } from './events.ts';
import type { CancellationResult, LineOutcome } from './outcome-events.ts';

/**
 * `pending`: stored, not yet seen by the pipeline; `reserving`: its lines are out at their
 * products' partitions; then decided: `confirmed`, `rejected` or `cancelled`.
 */
export type OrderStatus = 'pending' | 'reserving' | 'confirmed' | 'rejected' | 'cancelled';

/** An order's row as the flow keeps it. */
export interface OrderProgress {
  status: OrderStatus;
  /** Rejected: the reason of its first refused line. */
  reason?: RejectionReason | undefined;
  /** Reserving: the lines reported so far; decided: every line (none if cancelled before reserving). */
  lineResults?: LineOutcome[] | undefined;
  /** The request id of a cancellation that arrived before the decision. */
  cancelRequest?: string | undefined;
}

/** What a step asks for besides the new progress. */
export interface FlowEffects {
  /** Lines to reserve at their products' partitions. */
  reserve: Array<Extract<ProductCommand, { kind: 'reserve' }>>;
  /** Reserved lines whose stock goes back. */
  release: Array<Extract<ProductCommand, { kind: 'release' }>>;
  confirmed?: { lines: OrderLine[] };
  rejected?: { lines: LineOutcome[] };
  cancelled?: { requestId: string; result: CancellationResult; releasedLines: OrderLine[] };
}

/** The new progress (undefined: unchanged) and the effects of one step. */
export interface FlowStep {
  progress: OrderProgress | undefined;
  effects: FlowEffects;
}

const noEffects = (): FlowEffects => ({ reserve: [], release: [] });
const unchanged = (): FlowStep => ({ progress: undefined, effects: noEffects() });

const quantities = (lines: readonly OrderLine[]): OrderLine[] => lines.map(({ productId, quantity }) => ({ productId, quantity }));

function releases(orderId: string, lines: readonly LineOutcome[], cause: ReleaseCause): FlowEffects['release'] {
  return lines.filter((line) => line.outcome === 'reserved').map(({ productId, quantity }) => ({ kind: 'release', orderId, productId, quantity, cause }));
}

/**
 * A stored order's OrderCreated at its lead product's partition. `reserveHere` decides its one
 * line against the stock there (only called for a one-line order). A copy of an OrderCreated
 * already seen (the order is past pending) changes nothing.
 */
export function orderArrived(
  orderId: string,
  lines: readonly OrderLine[],
  progress: OrderProgress,
  reserveHere: (line: OrderLine) => LineOutcome,
): FlowStep {
  if (progress.status !== 'pending') return unchanged();
  if (progress.cancelRequest !== undefined) {
    return {
      progress: { status: 'cancelled', lineResults: [], cancelRequest: progress.cancelRequest },
      effects: { ...noEffects(), cancelled: { requestId: progress.cancelRequest, result: 'cancelled', releasedLines: [] } },
    };
  }
  if (lines.length === 1) {
    const result = reserveHere(lines[0]!);
    return result.outcome === 'reserved'
      ? { progress: { status: 'confirmed', lineResults: [result] }, effects: { ...noEffects(), confirmed: { lines: quantities(lines) } } }
      : { progress: { status: 'rejected', reason: result.reason, lineResults: [result] }, effects: { ...noEffects(), rejected: { lines: [result] } } };
  }
  return {
    progress: { status: 'reserving', lineResults: [] },
    effects: { ...noEffects(), reserve: lines.map(({ productId, quantity }) => ({ kind: 'reserve', orderId, productId, quantity, lineCount: lines.length })) },
  };
}

/**
 * A line's result at the order's partition. Ignored unless the order is reserving and the line
 * has not reported yet; the last line to report decides the order.
 */
export function lineReported(result: LineResult, progress: OrderProgress): FlowStep {
  if (progress.status !== 'reserving') return unchanged();
  const reported = progress.lineResults ?? [];
  if (reported.some((line) => line.productId === result.productId)) return unchanged();
  const line: LineOutcome =
    result.outcome === 'reserved'
      ? { productId: result.productId, quantity: result.quantity, outcome: 'reserved' }
      : { productId: result.productId, quantity: result.quantity, outcome: 'refused', reason: result.reason };
  const lineResults = [...reported, line];
  if (lineResults.length < result.lineCount) return { progress: { ...progress, lineResults }, effects: noEffects() };
  return decide(result.orderId, lineResults, progress.cancelRequest);
}

function decide(orderId: string, lineResults: LineOutcome[], cancelRequest: string | undefined): FlowStep {
  const refused = lineResults.find((line) => line.outcome === 'refused');
  if (refused !== undefined) {
    const effects: FlowEffects = { ...noEffects(), release: releases(orderId, lineResults, 'order_rejected'), rejected: { lines: lineResults } };
    if (cancelRequest !== undefined) effects.cancelled = { requestId: cancelRequest, result: 'order_rejected', releasedLines: [] };
    return { progress: { status: 'rejected', reason: refused.reason, lineResults, cancelRequest }, effects };
  }
  if (cancelRequest !== undefined) {
    return {
      progress: { status: 'cancelled', lineResults, cancelRequest },
      effects: {
        ...noEffects(),
        release: releases(orderId, lineResults, 'order_cancelled'),
        cancelled: { requestId: cancelRequest, result: 'cancelled', releasedLines: quantities(lineResults) },
      },
    };
  }
  return { progress: { status: 'confirmed', lineResults }, effects: { ...noEffects(), confirmed: { lines: quantities(lineResults) } } };
}

/** A cancellation request at the order's partition; `progress` undefined: no such order is stored. */
export function cancellationRequested(orderId: string, requestId: string, progress: OrderProgress | undefined): FlowStep {
  const answer = (result: CancellationResult): FlowStep => ({ progress: undefined, effects: { ...noEffects(), cancelled: { requestId, result, releasedLines: [] } } });
  if (progress === undefined) return answer('unknown_order');
  switch (progress.status) {
    case 'pending':
    case 'reserving':
      if (progress.cancelRequest !== undefined) return answer('already_requested');
      return { progress: { ...progress, cancelRequest: requestId }, effects: noEffects() };
    case 'confirmed': {
      const lineResults = progress.lineResults ?? [];
      return {
        progress: { status: 'cancelled', lineResults, cancelRequest: requestId },
        effects: {
          ...noEffects(),
          release: releases(orderId, lineResults, 'order_cancelled'),
          cancelled: { requestId, result: 'cancelled', releasedLines: quantities(lineResults.filter((line) => line.outcome === 'reserved')) },
        },
      };
    }
    case 'rejected':
      return answer('order_rejected');
    case 'cancelled':
      return answer('already_cancelled');
  }
}
