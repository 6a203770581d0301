import { describe, expect, it } from '@jest/globals';
import { createRandom } from '../../../core/random.ts';
import { type CommandMix, type CommandRoundInput, DEFAULT_COMMAND_MIX, planCommandRound } from '../../../verify/command-plan.ts';

const ids = () => {
  let next = 0;
  return () => `id-${++next}`;
};

const input = (patch: Partial<CommandRoundInput> = {}): CommandRoundInput => ({
  round: 0,
  productIds: [1, 2, 3, 4, 5, 6],
  newestOrders: ['n1', 'n2', 'n3', 'n4'],
  sampledOrders: ['s1', 's2', 's3'],
  requestedBefore: ['e1'],
  ...patch,
});

const MIX: CommandMix = { ...DEFAULT_COMMAND_MIX, restockedProducts: 3, maxRestockQuantity: 10, unknownProductEvery: 4, newestCancellations: 2, sampledCancellations: 1, repeatedCancellations: 2, unknownCancellations: 1 };

describe('planCommandRound', () => {
  it('restocks distinct catalogue products by 1 to the maximum, each restock with an id of its own', () => {
    const { restocks } = planCommandRound(input(), MIX, createRandom(7), ids());
    expect(restocks).toHaveLength(3);
    expect(new Set(restocks.map((restock) => restock.productId)).size).toBe(3);
    for (const restock of restocks) {
      expect([1, 2, 3, 4, 5, 6]).toContain(restock.productId);
      expect(restock.quantity).toBeGreaterThanOrEqual(1);
      expect(restock.quantity).toBeLessThanOrEqual(10);
    }
    expect(new Set(restocks.map((restock) => restock.restockId)).size).toBe(3);
  });

  it('adds one restock of a product that is not in the catalogue every so many rounds', () => {
    const unknown = (round: number) => planCommandRound(input({ round }), MIX, createRandom(7), ids()).restocks.filter((restock) => restock.productId === 7);
    expect([0, 1, 2, 3, 4, 7].map((round) => unknown(round).length)).toEqual([0, 0, 0, 1, 0, 1]);
    expect(planCommandRound(input({ round: 3 }), { ...MIX, unknownProductEvery: 0 }, createRandom(7), ids()).restocks.map((restock) => restock.productId)).not.toContain(7);
  });

  it('cancels newest and sampled orders, asks again for orders asked about before, and cancels ids nobody stored', () => {
    const { cancellations } = planCommandRound(input(), MIX, createRandom(3), ids());
    const orders = cancellations.map((cancellation) => cancellation.orderId);
    expect(orders).toHaveLength(2 + 1 + 2 + 1);
    const [newest, sampled, repeated, unknown] = [orders.slice(0, 2), orders.slice(2, 3), orders.slice(3, 5), orders.slice(5)];
    for (const id of newest) expect(['n1', 'n2', 'n3', 'n4']).toContain(id);
    expect(['s1', 's2', 's3']).toContain(sampled[0]);
    // A second request: for an order asked about in an earlier round or earlier in this one.
    for (const id of repeated) expect(['e1', ...newest, ...sampled]).toContain(id);
    expect(unknown[0]).toMatch(/^id-/);
    expect(new Set(cancellations.map((cancellation) => cancellation.requestId)).size).toBe(cancellations.length);
  });

  it('sends what it can when there are fewer orders than the mix asks for', () => {
    const { cancellations } = planCommandRound(input({ newestOrders: ['n1'], sampledOrders: ['n1'], requestedBefore: [] }), MIX, createRandom(3), ids());
    // n1 once as a first request (newest and sampled are the same order), once more as the second; one unknown id.
    expect(cancellations.map((cancellation) => cancellation.orderId)).toEqual(['n1', 'n1', expect.stringMatching(/^id-/)]);
  });

  it('draws the same round from the same seed', () => {
    const plan = () => planCommandRound(input(), MIX, createRandom(11), ids());
    expect(plan()).toEqual(plan());
  });
});
