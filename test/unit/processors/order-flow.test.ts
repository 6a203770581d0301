import { describe, expect, it } from '@jest/globals';
import type { LineResult } from '../../../processors/commands.ts';
import { cancellationRequested, lineReported, type OrderProgress, orderArrived } from '../../../processors/order-flow.ts';
import type { LineOutcome } from '../../../processors/outcome-events.ts';

const ORDER = '0190a000-0000-7000-8000-000000000001';
const REQUEST = '0190a000-0000-7000-8000-0000000000aa';
const pending: OrderProgress = { status: 'pending' };
const reserveAll = (line: { productId: number; quantity: number }): LineOutcome => ({ ...line, outcome: 'reserved' });
const refuseAll = (line: { productId: number; quantity: number }): LineOutcome => ({ ...line, outcome: 'refused', reason: 'out_of_stock' });

function result(productId: number, outcome: 'reserved' | 'refused', lineCount = 2, quantity = 1): LineResult {
  const line = { orderId: ORDER, productId, quantity, lineCount };
  return outcome === 'reserved' ? { ...line, outcome } : { ...line, outcome, reason: 'out_of_stock' };
}

describe('orderArrived', () => {
  it('decides a one-line order at once: confirmed when its line is reserved', () => {
    const step = orderArrived(ORDER, [{ productId: 1, quantity: 2 }], pending, reserveAll);
    expect(step.progress).toEqual({ status: 'confirmed', lineResults: [{ productId: 1, quantity: 2, outcome: 'reserved' }] });
    expect(step.effects.confirmed).toEqual({ lines: [{ productId: 1, quantity: 2 }] });
    expect(step.effects.reserve).toEqual([]);
  });

  it('rejects a one-line order whose line is refused, with the line reason', () => {
    const step = orderArrived(ORDER, [{ productId: 1, quantity: 2 }], pending, refuseAll);
    expect(step.progress).toMatchObject({ status: 'rejected', reason: 'out_of_stock' });
    expect(step.effects.rejected).toEqual({ lines: [{ productId: 1, quantity: 2, outcome: 'refused', reason: 'out_of_stock' }] });
    expect(step.effects.release).toEqual([]);
  });

  it('sends every line of a multi-line order to be reserved and waits', () => {
    const reserveHere = () => {
      throw new Error('a multi-line order is not decided at its lead partition');
    };
    const step = orderArrived(ORDER, [{ productId: 1, quantity: 2 }, { productId: 5, quantity: 1 }], pending, reserveHere);
    expect(step.progress).toEqual({ status: 'reserving', lineResults: [] });
    expect(step.effects.reserve).toEqual([
      { kind: 'reserve', orderId: ORDER, productId: 1, quantity: 2, lineCount: 2 },
      { kind: 'reserve', orderId: ORDER, productId: 5, quantity: 1, lineCount: 2 },
    ]);
  });

  it('ignores a copy of an order already past pending', () => {
    for (const status of ['reserving', 'confirmed', 'rejected', 'cancelled'] as const) {
      const step = orderArrived(ORDER, [{ productId: 1, quantity: 2 }], { status }, reserveAll);
      expect(step).toEqual({ progress: undefined, effects: { reserve: [], release: [] } });
    }
  });

  it('cancels an order whose cancellation came first, without reserving anything', () => {
    const step = orderArrived(ORDER, [{ productId: 1, quantity: 2 }], { status: 'pending', cancelRequest: REQUEST }, reserveAll);
    expect(step.progress).toEqual({ status: 'cancelled', lineResults: [], cancelRequest: REQUEST });
    expect(step.effects).toEqual({ reserve: [], release: [], cancelled: { requestId: REQUEST, result: 'cancelled', releasedLines: [] } });
  });
});

describe('lineReported', () => {
  const reserving: OrderProgress = { status: 'reserving', lineResults: [] };

  it('waits until every line has reported', () => {
    const step = lineReported(result(1, 'reserved'), reserving);
    expect(step.progress).toEqual({ status: 'reserving', lineResults: [{ productId: 1, quantity: 1, outcome: 'reserved' }] });
    expect(step.effects).toEqual({ reserve: [], release: [] });
  });

  it('confirms an order when its last line is reserved too', () => {
    const first = lineReported(result(1, 'reserved'), reserving).progress!;
    const step = lineReported(result(2, 'reserved'), first);
    expect(step.progress?.status).toBe('confirmed');
    expect(step.effects.confirmed).toEqual({ lines: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }] });
    expect(step.effects.release).toEqual([]);
  });

  it('rejects an order with any refused line and releases every reserved one', () => {
    const first = lineReported(result(1, 'reserved', 3, 4), { status: 'reserving' }).progress!;
    const second = lineReported(result(2, 'refused', 3), first).progress!;
    const step = lineReported(result(3, 'reserved', 3, 2), second);
    expect(step.progress).toMatchObject({ status: 'rejected', reason: 'out_of_stock' });
    expect(step.effects.release).toEqual([
      { kind: 'release', orderId: ORDER, productId: 1, quantity: 4, cause: 'order_rejected' },
      { kind: 'release', orderId: ORDER, productId: 3, quantity: 2, cause: 'order_rejected' },
    ]);
    expect(step.effects.rejected?.lines.map((line) => line.outcome)).toEqual(['reserved', 'refused', 'reserved']);
    expect(step.effects.confirmed).toBeUndefined();
  });

  it('ignores a second report of one line and a report for an order not reserving', () => {
    const first = lineReported(result(1, 'reserved'), reserving).progress!;
    expect(lineReported(result(1, 'reserved'), first)).toEqual({ progress: undefined, effects: { reserve: [], release: [] } });
    expect(lineReported(result(1, 'reserved'), { status: 'confirmed' }).progress).toBeUndefined();
  });

  it('cancels an order asked to cancel while reserving once all its lines are reserved, releasing them', () => {
    const first = lineReported(result(1, 'reserved'), { status: 'reserving', lineResults: [], cancelRequest: REQUEST }).progress!;
    const step = lineReported(result(2, 'reserved'), first);
    expect(step.progress).toMatchObject({ status: 'cancelled', cancelRequest: REQUEST });
    expect(step.effects.release.map((line) => [line.productId, line.cause])).toEqual([
      [1, 'order_cancelled'],
      [2, 'order_cancelled'],
    ]);
    expect(step.effects.cancelled).toEqual({ requestId: REQUEST, result: 'cancelled', releasedLines: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }] });
    expect(step.effects.confirmed).toBeUndefined();
  });

  it('rejects an order asked to cancel when a line is refused, and answers the request with order_rejected', () => {
    const first = lineReported(result(1, 'refused'), { status: 'reserving', cancelRequest: REQUEST }).progress!;
    const step = lineReported(result(2, 'reserved'), first);
    expect(step.progress?.status).toBe('rejected');
    expect(step.effects.cancelled).toEqual({ requestId: REQUEST, result: 'order_rejected', releasedLines: [] });
    expect(step.effects.release).toHaveLength(1);
  });
});

describe('cancellationRequested', () => {
  const confirmed: OrderProgress = {
    status: 'confirmed',
    lineResults: [
      { productId: 1, quantity: 2, outcome: 'reserved' },
      { productId: 3, quantity: 1, outcome: 'reserved' },
    ],
  };

  it('cancels a confirmed order and releases all its lines', () => {
    const step = cancellationRequested(ORDER, REQUEST, confirmed);
    expect(step.progress).toEqual({ status: 'cancelled', lineResults: confirmed.lineResults, cancelRequest: REQUEST });
    expect(step.effects.release).toEqual([
      { kind: 'release', orderId: ORDER, productId: 1, quantity: 2, cause: 'order_cancelled' },
      { kind: 'release', orderId: ORDER, productId: 3, quantity: 1, cause: 'order_cancelled' },
    ]);
    expect(step.effects.cancelled).toEqual({ requestId: REQUEST, result: 'cancelled', releasedLines: [{ productId: 1, quantity: 2 }, { productId: 3, quantity: 1 }] });
  });

  it('remembers the request of an undecided order, and answers a second one as already requested', () => {
    const step = cancellationRequested(ORDER, REQUEST, { status: 'reserving', lineResults: [] });
    expect(step.progress).toEqual({ status: 'reserving', lineResults: [], cancelRequest: REQUEST });
    expect(step.effects.cancelled).toBeUndefined();
    const again = cancellationRequested(ORDER, 'other', step.progress);
    expect(again.progress).toBeUndefined();
    expect(again.effects.cancelled?.result).toBe('already_requested');
  });

  it('changes nothing for an unknown, a rejected or a cancelled order, and says which', () => {
    expect(cancellationRequested(ORDER, REQUEST, undefined).effects.cancelled?.result).toBe('unknown_order');
    expect(cancellationRequested(ORDER, REQUEST, { status: 'rejected', reason: 'out_of_stock' }).effects.cancelled?.result).toBe('order_rejected');
    const cancelled = cancellationRequested(ORDER, REQUEST, confirmed).progress;
    const twice = cancellationRequested(ORDER, 'second', cancelled);
    expect(twice.progress).toBeUndefined();
    expect(twice.effects).toEqual({ reserve: [], release: [], cancelled: { requestId: 'second', result: 'already_cancelled', releasedLines: [] } });
  });
});
