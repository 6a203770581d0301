/**
 * `topology cancel --order UUID`: publishes one CancelOrder to the cancel commands topic (keyed
 * by order id, so the order's partition applies it) and, unless told not to, waits for the
 * OrderCancelled that answers this very request.
 */
import { exitCodesHelp, type FlagSpec } from '../core/cli.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { formatDuration } from '../core/numbers.ts';
import { cancelOrder } from '../processors/commands.ts';
import { type OrderCancelled, orderCancelledCodec, orderCancelledEventId } from '../processors/outcome-events.ts';
import { connectServices } from './bootstrap.ts';
import { type CancelRequest, DEFAULT_WAIT_MS, parseCancelFlags } from './command-flags.ts';
import { OutcomeWatch } from './outcome-watch.ts';
import { commandIdSource, sendOneCommand } from './send-command.ts';

export const CANCEL_FLAGS: FlagSpec = {
  order: { type: 'string' },
  'requested-by': { type: 'string' },
  wait: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
};

export const CANCEL_USAGE = `Usage: npm run topology -- cancel --order UUID [--requested-by TEXT] [--wait | --no-wait]
                               [--timeout DURATION]

Cancels an order: publishes one CancelOrder command (a fresh request id, keyed by the order id)
to CANCEL_COMMANDS_TOPIC (default order-cancel-commands). A confirmed order's lines give their
stock back; cancelling twice, an unknown order or a rejected one changes nothing, and says so.

Options:
  --order UUID          the order to cancel (its id, as in the orders table and OrderCreated)
  --requested-by TEXT   who asks, for the audit trail (default cli:<user>@<host>)
  --wait                wait for the answer and print it (the default): the OrderCancelled with
                        event id order-cancelled:<order id>:<request id> on ORDERS_CANCELLED_TOPIC
  --no-wait             only publish
  --timeout DURATION    how long to wait (default ${formatDuration(DEFAULT_WAIT_MS)}; 1s to 60m, e.g. 90s, 2m). No answer
                        in time is not an error: the request stays on its topic and is
                        applied when the processor runs. An order not decided yet answers
                        only once it is decided (its cancellation is pending until then),
                        which may be after the timeout
  -h, --help            this help

Prints the request id, then (waiting) the answer, one of:
  order <id> cancelled; released 2 lines: 3x product 1, 1x product 4
  order <id> cancelled; nothing was reserved, so nothing to release
  order <id> is already cancelled
  order <id>: a cancellation is already pending
  order <id> was rejected: nothing to cancel
  order <id> is unknown

${exitCodesHelp([
  [0, 'published (and, waiting, answered, or not answered within the timeout)'],
  [1, 'the answer is that the order is unknown, or PostgreSQL or Kafka is unavailable'],
  [2, 'bad usage: a missing flag or a malformed order id (one line naming the flag)'],
])}`;

export async function cancelCommand(flags: Record<string, string | undefined>): Promise<number> {
  const request = parseCancelFlags(flags);
  const config = loadConfig(process.env, {});
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const services = await connectServices(config, logger, { poolMax: 1 });
  try {
    const command = cancelOrder({ requestId: commandIdSource()(), orderId: request.orderId, requestedBy: request.requestedBy }, Date.now());
    // Before publishing: the answer may come before the reader starts.
    const waiting = request.waitMs === undefined ? undefined : { watch: await OutcomeWatch.from(services.admin, config.ordersCancelledTopic), timeoutMs: request.waitMs };
    await sendOneCommand(services.kafka, logger, config.cancelCommandsTopic, { event: command, key: request.orderId });
    const { requestId } = command.payload;
    process.stdout.write(`cancellation ${requestId} of order ${request.orderId} published to ${config.cancelCommandsTopic}\n`);
    if (!waiting) return 0;
    const answer = await waiting.watch.find(services.kafka, { eventId: orderCancelledEventId(request.orderId, requestId), codec: orderCancelledCodec, timeoutMs: waiting.timeoutMs });
    if (!answer.event) {
      process.stdout.write(`${describeUnanswered(request, requestId, config.cancelCommandsTopic, answer.why)}\n`);
      return 0;
    }
    process.stdout.write(`${describeCancellation(answer.event)}\n`);
    return answer.event.payload.result === 'unknown_order' ? 1 : 0;
  } finally {
    await services.close();
  }
}

/** An OrderCancelled in words: `order <id> cancelled; released 2 lines: 3x product 1, 1x product 4 (request <id>)`. */
export function describeCancellation(event: OrderCancelled): string {
  const { orderId, requestId, result, releasedLines } = event.payload;
  const request = `(request ${requestId})`;
  switch (result) {
    case 'cancelled': {
      if (releasedLines.length === 0) return `order ${orderId} cancelled; nothing was reserved, so nothing to release ${request}`;
      const lines = releasedLines.map((line) => `${line.quantity}x product ${line.productId}`).join(', ');
      return `order ${orderId} cancelled; released ${releasedLines.length} line${releasedLines.length === 1 ? '' : 's'}: ${lines} ${request}`;
    }
    case 'already_cancelled':
      return `order ${orderId} is already cancelled ${request}`;
    case 'already_requested':
      return `order ${orderId}: a cancellation is already pending ${request}`;
    case 'order_rejected':
      return `order ${orderId} was rejected: nothing to cancel ${request}`;
    case 'unknown_order':
      return `order ${orderId} is unknown ${request}`;
  }
}

function describeUnanswered(request: CancelRequest, requestId: string, topic: string, why: string): string {
  return `${why}: cancellation ${requestId} of order ${request.orderId} is on ${topic} and will be applied when the processor runs (an order not decided yet answers once it is decided)`;
}
