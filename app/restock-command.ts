/**
 * `topology restock --product ID --quantity N`: publishes one RestockInventory to the restock
 * commands topic (keyed by product id, so the product's partition applies it in order with the
 * orders) and, unless told not to, waits for the InventoryRestocked that answers it.
 */
import { exitCodesHelp, type FlagSpec } from '../core/cli.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { formatDuration } from '../core/numbers.ts';
import { restockInventory } from '../processors/commands.ts';
import { type InventoryRestocked, inventoryRestockedCodec, inventoryRestockedEventId } from '../processors/outcome-events.ts';
import { connectServices } from './bootstrap.ts';
import { catalogueSummary, describeMissingProduct, productExists } from './catalogue.ts';
import { DEFAULT_WAIT_MS, parseRestockFlags, type RestockRequest } from './command-flags.ts';
import { OutcomeWatch } from './outcome-watch.ts';
import { commandIdSource, sendOneCommand } from './send-command.ts';

export const RESTOCK_FLAGS: FlagSpec = {
  product: { type: 'string' },
  quantity: { type: 'string' },
  'requested-by': { type: 'string' },
  wait: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
};

export const RESTOCK_USAGE = `Usage: npm run topology -- restock --product ID --quantity N [--requested-by TEXT]
                                [--wait | --no-wait] [--timeout DURATION]

Adds N units to a product's stock: publishes one RestockInventory command (a fresh restock id,
keyed by the product id) to RESTOCK_COMMANDS_TOPIC (default inventory-restock-commands), which
the product's partition applies once, in order with the orders. The command is checked first:
the product must exist in the catalogue (PostgreSQL's products table).

Options:
  --product ID          the product to restock (a catalogue id)
  --quantity N          units to add (1 to 2147483647)
  --requested-by TEXT   who asks, for the audit trail (default cli:<user>@<host>)
  --wait                wait for the restock to be applied and print the stock before and after
                        (the default): the InventoryRestocked with event id
                        inventory-restocked:<restock id> on INVENTORY_RESTOCKED_TOPIC
  --no-wait             only publish
  --timeout DURATION    how long to wait (default ${formatDuration(DEFAULT_WAIT_MS)}; 1s to 60m, e.g. 90s, 2m). No answer
                        in time is not an error: the command stays on its topic and is
                        applied when the processor runs
  -h, --help            this help

Prints the restock id, then (waiting) "product 3: stock 12 -> 62 (restock <id>)".

${exitCodesHelp([
  [0, 'published (and, waiting, applied or not answered within the timeout)'],
  [1, 'the product does not exist, or PostgreSQL or Kafka is unavailable'],
  [2, 'bad usage: a missing or malformed flag (one line naming it)'],
])}`;

export async function restockCommand(flags: Record<string, string | undefined>): Promise<number> {
  const request = parseRestockFlags(flags);
  const config = loadConfig(process.env, {});
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const services = await connectServices(config, logger, { poolMax: 1 });
  try {
    if (!(await productExists(services.sequelize, request.productId))) {
      process.stderr.write(`error: ${describeMissingProduct(request.productId, await catalogueSummary(services.sequelize))}\n`);
      return 1;
    }
    const command = restockInventory({ restockId: commandIdSource()(), productId: request.productId, quantity: request.quantity, requestedBy: request.requestedBy }, Date.now());
    // Before publishing: the answer may come before the reader starts.
    const waiting = request.waitMs === undefined ? undefined : { watch: await OutcomeWatch.from(services.admin, config.inventoryRestockedTopic), timeoutMs: request.waitMs };
    await sendOneCommand(services.kafka, logger, config.restockCommandsTopic, { event: command, key: String(request.productId) });
    const { restockId } = command.payload;
    process.stdout.write(`restock ${restockId}: +${request.quantity} units of product ${request.productId}, published to ${config.restockCommandsTopic}\n`);
    if (!waiting) return 0;
    const answer = await waiting.watch.find(services.kafka, { eventId: inventoryRestockedEventId(restockId), codec: inventoryRestockedCodec, timeoutMs: waiting.timeoutMs });
    process.stdout.write(`${answer.event ? describeRestocked(answer.event) : describeUnanswered(request, restockId, config.restockCommandsTopic, answer.why)}\n`);
    return 0;
  } finally {
    await services.close();
  }
}

/** `product 3: stock 12 -> 62 (restock <id>)`. */
export function describeRestocked(event: InventoryRestocked): string {
  const { productId, quantity, stockAfter, restockId } = event.payload;
  return `product ${productId}: stock ${stockAfter - quantity} -> ${stockAfter} (restock ${restockId})`;
}

function describeUnanswered(request: RestockRequest, restockId: string, topic: string, why: string): string {
  return `${why}: restock ${restockId} of product ${request.productId} is on ${topic} and will be applied when the processor runs`;
}
