/**
 * The records of the customer-orders example. It reads the shop's orders topic, but decodes
 * only what it needs (order id, customer id) with a codec of its own: an example written with
 * the engine's public API alone, sharing no code with the reference pipeline.
 */
import { type Codec, DecodeError, SchemaError } from '../../core/codec.ts';

/** What the example takes of an order on the orders topic. */
export interface PlacedOrder {
  orderId: string;
  /** Guest orders have none: they are not counted. */
  customerId: string | null;
}

/** An order on its way to its customer's partition. */
export interface CustomerOrder {
  orderId: string;
  customerId: string;
}

/** A customer's order count after an order of theirs was counted: the `customer-order-counts` topic. */
export interface CustomerOrderCount {
  customerId: string;
  orders: number;
}

function parse(bytes: Buffer | null): Record<string, unknown> {
  if (bytes === null) throw new DecodeError('record value is null, expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DecodeError(`record value is not valid JSON: ${(error as Error).message}`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SchemaError('$', 'record value must be a JSON object');
  return value as Record<string, unknown>;
}

function text(object: Record<string, unknown>, field: string, path: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') throw new SchemaError(path, `${path} must be a non-empty string`);
  return value;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** Reads `payload.orderId` and `payload.customerId` of an order event; encodes the same shape (for tests and tools). */
export const placedOrderCodec: Codec<PlacedOrder> = {
  decode(bytes) {
    const payload = parse(bytes).payload;
    if (typeof payload !== 'object' || payload === null) throw new SchemaError('payload', 'payload must be an object');
    const fields = payload as Record<string, unknown>;
    const customerId = fields.customerId;
    if (customerId !== null && customerId !== undefined && (typeof customerId !== 'string' || customerId === '')) {
      throw new SchemaError('payload.customerId', 'payload.customerId must be a non-empty string or null');
    }
    return { orderId: text(fields, 'orderId', 'payload.orderId'), customerId: (customerId as string | null | undefined) ?? null };
  },
  encode: (order) => json({ payload: order }),
};

export const customerOrderCodec: Codec<CustomerOrder> = {
  decode(bytes) {
    const value = parse(bytes);
    return { orderId: text(value, 'orderId', 'orderId'), customerId: text(value, 'customerId', 'customerId') };
  },
  encode: json,
};

export const customerOrderCountCodec: Codec<CustomerOrderCount> = {
  decode(bytes) {
    const value = parse(bytes);
    const orders = value.orders;
    if (!Number.isSafeInteger(orders) || (orders as number) < 1) throw new SchemaError('orders', 'orders must be a positive integer');
    return { customerId: text(value, 'customerId', 'customerId'), orders: orders as number };
  },
  encode: json,
};
