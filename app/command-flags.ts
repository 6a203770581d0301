/**
 * The flags of the operator's commands (`topology restock`, `topology cancel`), checked before
 * anything connects: a bad value is a ConfigError naming the flag (one line, exit 2). Pure.
 */
import os from 'node:os';
import { ConfigError } from '../core/errors.ts';
import { durationFlag, parseInteger } from '../core/numbers.ts';
import { PG_INTEGER_MAX, uuidAt } from '../processors/event-json.ts';

type Flags = Record<string, string | undefined>;

/** How a command is sent: who asks, and how long to wait for its outcome (undefined: not at all). */
export interface CommandDelivery {
  requestedBy: string;
  waitMs: number | undefined;
}

export interface RestockRequest extends CommandDelivery {
  productId: number;
  quantity: number;
}

export interface CancelRequest extends CommandDelivery {
  orderId: string;
}

export const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 3_600_000;
const MAX_REQUESTED_BY = 200;

/** `--product ID --quantity N` and the delivery flags. */
export function parseRestockFlags(flags: Flags, defaultRequestedBy: () => string = operatorName): RestockRequest {
  const productId = positivePgInteger(flags, 'product', `a product id (an integer from 1 to ${PG_INTEGER_MAX})`);
  const quantity = positivePgInteger(flags, 'quantity', `the units to add (an integer from 1 to ${PG_INTEGER_MAX})`);
  return { productId, quantity, ...parseDelivery(flags, defaultRequestedBy) };
}

/** `--order UUID` and the delivery flags. */
export function parseCancelFlags(flags: Flags, defaultRequestedBy: () => string = operatorName): CancelRequest {
  const raw = flags.order;
  const expected = 'an order id (a UUID such as 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b)';
  if (raw === undefined) throw new ConfigError('--order', expected, undefined);
  let orderId: string;
  try {
    orderId = uuidAt(raw.trim(), '--order');
  } catch {
    throw new ConfigError('--order', expected, raw);
  }
  return { orderId, ...parseDelivery(flags, defaultRequestedBy) };
}

/** `--requested-by TEXT`, `--wait` (the default) or `--no-wait`, `--timeout DURATION`. */
export function parseDelivery(flags: Flags, defaultRequestedBy: () => string = operatorName): CommandDelivery {
  if (flags.wait !== undefined && flags['no-wait'] !== undefined) throw new ConfigError('--wait/--no-wait', 'one of them, not both', '--wait --no-wait');
  const wait = flags['no-wait'] === undefined;
  if (!wait && flags.timeout !== undefined) throw new ConfigError('--timeout', 'to be used without --no-wait (it bounds the wait)', flags.timeout);
  const waitMs = durationFlag(flags, 'timeout', { min: 1000, max: MAX_WAIT_MS, fallback: DEFAULT_WAIT_MS });
  return { requestedBy: requestedBy(flags['requested-by'], defaultRequestedBy), waitMs: wait ? waitMs : undefined };
}

function requestedBy(raw: string | undefined, fallback: () => string): string {
  if (raw === undefined) return fallback();
  const text = raw.trim();
  // Stored in PostgreSQL text by whoever keeps an audit trail: no U+0000, and short.
  if (text === '' || text.length > MAX_REQUESTED_BY || text.includes('\u0000')) throw new ConfigError('--requested-by', `who asks, in 1 to ${MAX_REQUESTED_BY} characters`, raw);
  return text;
}

/** A required flag holding a PostgreSQL integer of at least 1 (what the commands' payloads carry). */
function positivePgInteger(flags: Flags, name: string, expected: string): number {
  const raw = flags[name];
  const value = raw === undefined ? undefined : parseInteger(raw, { min: 1, max: PG_INTEGER_MAX });
  if (value === undefined) throw new ConfigError(`--${name}`, expected, raw);
  return value;
}

/** `cli:<user>@<host>`: who typed the command, as far as this machine knows. */
export function operatorName(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // A container may run as a uid without a passwd entry.
    user = process.env.USER ?? 'unknown';
  }
  return `cli:${user}@${os.hostname()}`;
}
