/**
 * The commands a run sends the order flow (RestockInventory, CancelOrder), as the verifier and
 * the exactly-once suites send them, and which of them came back as dead letters. A command
 * counts as sent only once its send was acknowledged: one whose send failed may or may not have
 * arrived, so no check may expect it (and none is hurt by it, since the checks start from what
 * the database and the topics say happened).
 */
import { type KeyedCommand, sendCommands } from '../app/send-command.ts';
import type { KafkaProducer } from '../kafka/port.ts';
import { cancelOrder, productCommandCodec, restockInventory, restockInventoryCodec } from '../processors/commands.ts';
import type { CancellationSent, RestockSent } from './order-flow-model.ts';

/** Who the commands say asked (their `requestedBy`). */
const REQUESTED_BY = 'verify';

export function restockCommand(restock: RestockSent, nowMs: number): KeyedCommand {
  return { event: restockInventory({ ...restock, requestedBy: REQUESTED_BY }, nowMs), key: String(restock.productId) };
}

export function cancellationCommand(cancellation: CancellationSent, nowMs: number): KeyedCommand {
  return { event: cancelOrder({ ...cancellation, requestedBy: REQUESTED_BY }, nowMs), key: cancellation.orderId };
}

/** The restocks in one acknowledged send (rejects if it was not). */
export function sendRestocks(producer: KafkaProducer, topic: string, restocks: readonly RestockSent[]): Promise<void> {
  return sendCommands(producer, topic, restocks.map((restock) => restockCommand(restock, Date.now())));
}

/** The cancellations in one acknowledged send, in order (rejects if it was not). */
export function sendCancellations(producer: KafkaProducer, topic: string, cancellations: readonly CancellationSent[]): Promise<void> {
  return sendCommands(producer, topic, cancellations.map((cancellation) => cancellationCommand(cancellation, Date.now())));
}

/**
 * The restock ids among dead letters: a restock of a product with no stock row is refused at the
 * product's partition, so its dead letter holds the restock as the internal product command; one
 * refused before that holds the RestockInventory itself. Other dead letters are not restocks.
 */
export function deadLetteredRestockIds(deadLetters: ReadonlyArray<{ value: Buffer | null }>): Set<string> {
  const ids = new Set<string>();
  for (const { value } of deadLetters) {
    const restockId = restockIdOf(value);
    if (restockId !== undefined) ids.add(restockId);
  }
  return ids;
}

function restockIdOf(value: Buffer | null): string | undefined {
  try {
    const command = productCommandCodec.decode(value);
    return command.kind === 'restock' ? command.restockId : undefined;
  } catch {
    // Not a product command: perhaps the RestockInventory as it was sent.
  }
  try {
    return restockInventoryCodec.decode(value).payload.restockId;
  } catch {
    return undefined;
  }
}
