import { describe, expect, it } from '@jest/globals';
import { applyDecision, decideOrder } from '../../../processors/inventory.ts';

describe('decideOrder', () => {
  it('confirms when stock covers the quantity, exactly or more', () => {
    expect(decideOrder({ quantity: 2, version: 0 }, 2)).toEqual({ status: 'confirmed' });
    expect(decideOrder({ quantity: 5, version: 0 }, 2)).toEqual({ status: 'confirmed' });
  });

  it('rejects out_of_stock when the quantity is bigger than the stock', () => {
    expect(decideOrder({ quantity: 1, version: 3 }, 2)).toEqual({ status: 'rejected', reason: 'out_of_stock' });
    expect(decideOrder({ quantity: 0, version: 0 }, 1)).toEqual({ status: 'rejected', reason: 'out_of_stock' });
  });

  it('rejects unknown_product when there is no stock record', () => {
    expect(decideOrder(null, 1)).toEqual({ status: 'rejected', reason: 'unknown_product' });
  });

  it('treats a non-positive or fractional quantity as a programmer error', () => {
    expect(() => decideOrder({ quantity: 5, version: 0 }, 0)).toThrow(RangeError);
    expect(() => decideOrder({ quantity: 5, version: 0 }, -1)).toThrow('order quantity must be a positive integer, got -1');
    expect(() => decideOrder(null, 1.5)).toThrow(RangeError);
  });

  it('applies only confirmed decisions, leaving the version alone', () => {
    const stock = { quantity: 5, version: 2 };
    expect(applyDecision(stock, 2, { status: 'confirmed' })).toEqual({ quantity: 3, version: 2 });
    expect(applyDecision(stock, 9, { status: 'rejected', reason: 'out_of_stock' })).toBe(stock);
  });
});

