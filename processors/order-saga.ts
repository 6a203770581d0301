/**
 * The order's partition: where the results of a multi-line order's lines come together and the
 * order is decided, and where cancellation requests are answered (order-flow.ts has the rules).
 * It reads two topics keyed by order id, the `line-results` repartition and the cancellation
 * commands, and keeps each order's progress in the `order-sagas` store (its `orders` row). Lines
 * to release go back to their products' partitions through the `product-commands` repartition.
 */
import { StreamError } from '../core/errors.ts';
import type { InputRecord, Processor } from '../topology/processor-api.ts';
import type { CancelOrder, LineResult } from './commands.ts';
import { cancellationRequested, type FlowStep, lineReported, type OrderProgress } from './order-flow.ts';
import { forwardOutcomes, type OutcomeSinks } from './order-outcomes.ts';

export const ORDER_SAGA_STORE = 'order-sagas';

export interface OrderSagaSinks extends OutcomeSinks {
  productCommands: string;
}

export type OrderSagaInput = LineResult | CancelOrder;

const orderIdOf = (input: OrderSagaInput) => ('type' in input ? input.payload.orderId : input.orderId);

/** A line result for an order the `orders` table does not hold: nothing could have sent it. */
export class LineOfUnknownOrderError extends StreamError {
  readonly errorClass = 'LineOfUnknownOrderError';
  constructor(result: LineResult) {
    super('RECORD_INVALID', `a line result for product ${result.productId} names order ${result.orderId}, which is not stored; not applied`, {
      context: { orderId: result.orderId, productId: result.productId },
    });
  }
}

export function orderSagaPrefetch(input: OrderSagaInput) {
  return { [ORDER_SAGA_STORE]: [orderIdOf(input)] };
}

export function createOrderSaga(sinks: OrderSagaSinks): () => Processor<OrderSagaInput, unknown> {
  return () => ({
    process(record: InputRecord<OrderSagaInput>, context) {
      const input = record.value;
      const orderId = orderIdOf(input);
      const orders = context.getStateStore<string, OrderProgress>(ORDER_SAGA_STORE);
      const progress = orders.get(orderId);
      let step: FlowStep;
      if ('type' in input) step = cancellationRequested(orderId, input.payload.requestId, progress);
      else {
        if (progress === undefined) throw new LineOfUnknownOrderError(input);
        step = lineReported(input, progress);
      }
      if (step.progress !== undefined) orders.put(orderId, step.progress);
      for (const release of step.effects.release) context.forward({ key: String(release.productId), value: release }, sinks.productCommands);
      forwardOutcomes(orderId, step.effects, context, sinks);
    },
  });
}
