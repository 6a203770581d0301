import type { OrderLine } from '../../../processors/events.ts';
import { describe, expect, it } from '@jest/globals';
import { describeMissingProduct } from '../../../app/catalogue.ts';
import { describeCancellation } from '../../../app/cancel-command.ts';
import { parseCancelFlags, parseDelivery, parseRestockFlags } from '../../../app/command-flags.ts';
import { describeRestocked } from '../../../app/restock-command.ts';
import { ConfigError } from '../../../core/errors.ts';
import { type CancellationResult, inventoryRestocked, orderCancelled } from '../../../processors/outcome-events.ts';

const OPERATOR = () => 'cli:ada@host';

function refusal(parse: () => unknown): { setting: string; message: string } {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { setting: (error as ConfigError).setting, message: (error as ConfigError).message };
  }
  throw new Error('expected a ConfigError');
}

describe('restock flags', () => {
  it('a product, a quantity, and by default: waiting 30 s, asked by the operator', () => {
    expect(parseRestockFlags({ product: '3', quantity: '50' }, OPERATOR)).toEqual({ productId: 3, quantity: 50, requestedBy: 'cli:ada@host', waitMs: 30_000 });
  });

  it('--no-wait publishes only; --timeout bounds the wait; --requested-by names who asks', () => {
    expect(parseRestockFlags({ product: '3', quantity: '1_000', 'no-wait': 'true' }, OPERATOR)).toMatchObject({ quantity: 1000, waitMs: undefined });
    expect(parseRestockFlags({ product: '3', quantity: '5', wait: 'true', timeout: '2m' }, OPERATOR)).toMatchObject({ waitMs: 120_000 });
    expect(parseRestockFlags({ product: '3', quantity: '5', 'requested-by': '  night shift ' }, OPERATOR)).toMatchObject({ requestedBy: 'night shift' });
  });

  it.each([
    [{ quantity: '5' }, '--product', 'got nothing'],
    [{ product: '0', quantity: '5' }, '--product', 'got "0"'],
    [{ product: '-3', quantity: '5' }, '--product', 'got "-3"'],
    [{ product: '2.5', quantity: '5' }, '--product', 'got "2.5"'],
    [{ product: 'x', quantity: '5' }, '--product', 'got "x"'],
    [{ product: '2147483648', quantity: '5' }, '--product', 'got "2147483648"'],
    [{ product: '3' }, '--quantity', 'got nothing'],
    [{ product: '3', quantity: '0' }, '--quantity', 'got "0"'],
    [{ product: '3', quantity: '2147483648' }, '--quantity', 'got "2147483648"'],
  ])('%j is refused, naming %s', (flags, setting, got) => {
    const { setting: named, message } = refusal(() => parseRestockFlags(flags, OPERATOR));
    expect(named).toBe(setting);
    expect(message).toMatch(/expected (a product id|the units to add) \(an integer from 1 to 2147483647\)/);
    expect(message).toContain(got);
  });
});

const ORDER = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const REQUEST = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';

describe('cancel flags', () => {
  it('an order id (lower-cased, as the events carry it), and the delivery defaults', () => {
    expect(parseCancelFlags({ order: ` ${ORDER.toUpperCase()} ` }, OPERATOR)).toEqual({ orderId: ORDER, requestedBy: 'cli:ada@host', waitMs: 30_000 });
    expect(parseCancelFlags({ order: ORDER, 'no-wait': 'true', 'requested-by': 'support' }, OPERATOR)).toEqual({ orderId: ORDER, requestedBy: 'support', waitMs: undefined });
  });

  it.each([[{}, 'got nothing'], [{ order: '42' }, 'got "42"'], [{ order: `${ORDER}0` }, `got "${ORDER}0"`], [{ order: ORDER.replaceAll('-', '') }, 'got "0193a1b2']])('%j is refused, naming --order', (flags, got) => {
    const { setting, message } = refusal(() => parseCancelFlags(flags, OPERATOR));
    expect(setting).toBe('--order');
    expect(message).toContain('expected an order id (a UUID');
    expect(message).toContain(got);
  });
});

describe('delivery flags (restock and cancel)', () => {
  it.each([
    [{ wait: 'true', 'no-wait': 'true' }, '--wait/--no-wait'],
    [{ 'no-wait': 'true', timeout: '5s' }, '--timeout'],
    [{ timeout: '500ms' }, '--timeout'],
    [{ timeout: '2h' }, '--timeout'],
    [{ timeout: 'soon' }, '--timeout'],
    [{ 'requested-by': ' ' }, '--requested-by'],
    [{ 'requested-by': 'a\u0000b' }, '--requested-by'],
  ])('%j is refused, naming %s', (flags, setting) => {
    expect(refusal(() => parseDelivery(flags, OPERATOR)).setting).toBe(setting);
  });

  it('--requested-by takes at most 200 characters', () => {
    expect(parseDelivery({ 'requested-by': 'x'.repeat(200) }, OPERATOR).requestedBy).toHaveLength(200);
    expect(refusal(() => parseDelivery({ 'requested-by': 'x'.repeat(201) }, OPERATOR)).setting).toBe('--requested-by');
  });

  it('the default operator is only asked for when --requested-by is absent', () => {
    expect(parseDelivery({ 'requested-by': 'ops' }, () => { throw new Error('not asked'); }).requestedBy).toBe('ops');
    expect(parseDelivery({}).requestedBy).toMatch(/^cli:.+@.+$/);
  });
});

describe('what restock says', () => {
  it('names the ids the catalogue has when the product is not one of them', () => {
    expect(describeMissingProduct(99, { count: 4, firstIds: [1, 2, 3, 4], lastId: 4 })).toBe('product 99 does not exist (the catalogue has 4 products: 1, 2, 3, 4)');
    expect(describeMissingProduct(7, { count: 1, firstIds: [1], lastId: 1 })).toBe('product 7 does not exist (the catalogue has 1 product: 1)');
    expect(describeMissingProduct(0, { count: 100_000, firstIds: [1, 2, 3, 4, 5, 6, 7, 8], lastId: 100_000 })).toBe('product 0 does not exist (the catalogue has 100000 products: 1, 2, 3, 4, 5, 6, 7, 8, ..., 100000)');
    expect(describeMissingProduct(3, { count: 0, firstIds: [], lastId: undefined })).toBe('product 3 does not exist (the catalogue is empty: npm run db:seed fills it)');
  });

  it('the stock before and after the restock it answers', () => {
    const event = inventoryRestocked({ restockId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', productId: 3, quantity: 50, stockAfter: 62 }, 0);
    expect(describeRestocked(event)).toBe('product 3: stock 12 -> 62 (restock 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b)');
  });
});

describe('what cancel says', () => {
  const answer = (result: CancellationResult, releasedLines: OrderLine[] = []) => describeCancellation(orderCancelled({ orderId: ORDER, requestId: REQUEST, result, releasedLines }, 0));

  it.each([
    [answer('cancelled', [{ productId: 1, quantity: 3 }, { productId: 4, quantity: 1 }]), `order ${ORDER} cancelled; released 2 lines: 3x product 1, 1x product 4 (request ${REQUEST})`],
    [answer('cancelled', [{ productId: 2, quantity: 5 }]), `order ${ORDER} cancelled; released 1 line: 5x product 2 (request ${REQUEST})`],
    [answer('cancelled'), `order ${ORDER} cancelled; nothing was reserved, so nothing to release (request ${REQUEST})`],
    [answer('already_cancelled'), `order ${ORDER} is already cancelled (request ${REQUEST})`],
    [answer('already_requested'), `order ${ORDER}: a cancellation is already pending (request ${REQUEST})`],
    [answer('order_rejected'), `order ${ORDER} was rejected: nothing to cancel (request ${REQUEST})`],
    [answer('unknown_order'), `order ${ORDER} is unknown (request ${REQUEST})`],
  ])('%s', (said, expected) => {
    expect(said).toBe(expected);
  });
});
