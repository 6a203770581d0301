/**
 * What one round of the run's commands sends, pure: restocks of a few products (now and then
 * one of a product that does not exist, which must become a dead letter), and cancellations of
 * stored orders — some of the newest, likely still undecided, some drawn from the whole run,
 * likely decided — a second request for orders asked about before, and requests for order ids
 * nobody stored. Every command has an id of its own.
 */
import type { Random } from '../core/random.ts';
import type { CancellationSent, RestockSent } from './order-flow-model.ts';

export interface CommandMix {
  /** Distinct catalogue products restocked per round. */
  restockedProducts: number;
  /** Units of one restock: 1 to this. */
  maxRestockQuantity: number;
  /** Every this many rounds, one restock of a product that is not in the catalogue (0: never). */
  unknownProductEvery: number;
  /** Cancellations of the newest stored orders, of orders drawn at random, second requests, and of unknown order ids, per round. */
  newestCancellations: number;
  sampledCancellations: number;
  repeatedCancellations: number;
  unknownCancellations: number;
}

export const DEFAULT_COMMAND_MIX: CommandMix = {
  restockedProducts: 3,
  maxRestockQuantity: 20,
  unknownProductEvery: 5,
  newestCancellations: 2,
  sampledCancellations: 1,
  repeatedCancellations: 1,
  unknownCancellations: 1,
};

export interface CommandRoundInput {
  /** 0 for the first round. */
  round: number;
  productIds: readonly number[];
  /** The newest stored orders. */
  newestOrders: readonly string[];
  /** Stored orders drawn from the whole run. */
  sampledOrders: readonly string[];
  /** Orders a cancellation was sent for in earlier rounds. */
  requestedBefore: readonly string[];
}

export interface CommandRound {
  restocks: RestockSent[];
  cancellations: CancellationSent[];
}

export function planCommandRound(input: CommandRoundInput, mix: CommandMix, random: Random, nextId: () => string): CommandRound {
  const restocks: RestockSent[] = pick(input.productIds, mix.restockedProducts, random).map((productId) => ({
    restockId: nextId(),
    productId,
    quantity: 1 + random.nextInt(mix.maxRestockQuantity),
  }));
  if (mix.unknownProductEvery > 0 && input.round % mix.unknownProductEvery === mix.unknownProductEvery - 1) {
    restocks.push({ restockId: nextId(), productId: Math.max(0, ...input.productIds) + 1, quantity: 1 });
  }

  const firstRequests = [...pick(input.newestOrders, mix.newestCancellations, random), ...pick(input.sampledOrders, mix.sampledCancellations, random)];
  const fresh = [...new Set(firstRequests)];
  // A second request after one in this very round as well, so a run of one round has some.
  const repeated = pick([...new Set([...input.requestedBefore, ...fresh])], mix.repeatedCancellations, random);
  const unknown = Array.from({ length: mix.unknownCancellations }, () => nextId());
  const cancellations = [...fresh, ...repeated, ...unknown].map((orderId) => ({ requestId: nextId(), orderId }));
  return { restocks, cancellations };
}

/** Up to `count` distinct entries of `from`, in random order. */
function pick<T>(from: readonly T[], count: number, random: Random): T[] {
  const pool = [...from];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) picked.push(pool.splice(random.nextInt(pool.length), 1)[0]!);
  return picked;
}
