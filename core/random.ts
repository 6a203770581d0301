/**
 * Seeded pseudo-randomness and UUIDv7, so load generation and tests are reproducible.
 *
 * The generator is xoshiro128** (Blackman & Vigna): 128-bit state, period 2^128 - 1, good
 * statistical quality and only 32-bit integer arithmetic, so it stays fast in JavaScript.
 * Seeds are expanded with splitmix32 so that nearby seeds (1, 2, 3, ...) give unrelated streams.
 * Not for secrets.
 */
export interface Random {
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniform float in [0, 1); a plain function so it can be passed where `() => number` is expected. */
  next: () => number;
  /** A uniform integer in [0, bound), bound a positive integer <= 2^32. */
  nextInt(bound: number): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Folds any finite number (including ones above 2^32 and negatives) into 32 bits without losing the high part. */
function seedBits(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const integer = Math.trunc(seed);
  const high = Math.floor(integer / 2 ** 32);
  return (integer ^ Math.imul(high, 0x27d4eb2d)) >>> 0;
}

/** A xoshiro128** stream determined entirely by `seed`. */
export function createRandom(seed: number): Random {
  const expand = splitmix32(seedBits(seed));
  let a = expand();
  let b = expand();
  let c = expand();
  let d = expand();
  // An all-zero state would stay zero forever.
  if ((a | b | c | d) === 0) a = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => nextUint32() / 2 ** 32;
  const nextInt = (bound: number): number => {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 2 ** 32) throw new RangeError(`bound must be an integer in 1..2^32, got ${bound}`);
    // Rejection sampling: plain modulo would favour small values when bound does not divide 2^32.
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let value = nextUint32();
    while (value >= limit) value = nextUint32();
    return value % bound;
  };
  return { nextUint32, next, nextInt };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** An independent stream for another purpose, derived from a seed and a label (e.g. 'order-ids'). */
export function deriveRandom(seed: number, label: string): Random {
  let hash = seedBits(seed);
  for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return createRandom(hash);
}

// ---------------------------------------------------------------------------------------
// UUIDv7 (RFC 9562 section 5.7): 48-bit Unix milliseconds, version 7, 12 bits rand_a,
// variant 0b10, 62 bits rand_b. Time first, so ids of one period sit together in a B-tree.

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const MAX_UNIX_MS = 2 ** 48 - 1;

function checkedTimestamp(nowMs: number): number {
  if (!Number.isInteger(nowMs) || nowMs < 0 || nowMs > MAX_UNIX_MS) {
    throw new RangeError(`UUIDv7 timestamp must be an integer number of milliseconds in 0..2^48-1, got ${nowMs}`);
  }
  return nowMs;
}

/** Formats the fields; `randA` 12 bits, `randBHigh` 30 bits, `randBLow` 32 bits. */
function formatUuidV7(unixMs: number, randA: number, randBHigh: number, randBLow: number): string {
  const msHigh = Math.floor(unixMs / 2 ** 16); // top 32 of the 48 bits
  const msLow = unixMs % 2 ** 16;
  const versionAndRandA = 0x7000 | randA;
  const variantAndHigh = 0x80000000 | randBHigh; // 0b10 then 30 bits
  return (
    HEX[msHigh >>> 24]! +
    HEX[(msHigh >>> 16) & 0xff]! +
    HEX[(msHigh >>> 8) & 0xff]! +
    HEX[msHigh & 0xff]! +
    '-' +
    HEX[msLow >>> 8]! +
    HEX[msLow & 0xff]! +
    '-' +
    HEX[versionAndRandA >>> 8]! +
    HEX[versionAndRandA & 0xff]! +
    '-' +
    HEX[variantAndHigh >>> 24]! +
    HEX[(variantAndHigh >>> 16) & 0xff]! +
    '-' +
    HEX[(variantAndHigh >>> 8) & 0xff]! +
    HEX[variantAndHigh & 0xff]! +
    HEX[randBLow >>> 24]! +
    HEX[(randBLow >>> 16) & 0xff]! +
    HEX[(randBLow >>> 8) & 0xff]! +
    HEX[randBLow & 0xff]!
  );
}

/**
 * One UUIDv7 for `nowMs`, its 74 random bits drawn from `random` (so it is deterministic given
 * the stream). Ids of different milliseconds sort by time; within one millisecond they are
 * random — use `createUuidV7Source` when ids must strictly increase.
 */
export function uuidv7(nowMs: number, random: Random): string {
  const unixMs = checkedTimestamp(nowMs);
  return formatUuidV7(unixMs, random.nextUint32() >>> 20, random.nextUint32() >>> 2, random.nextUint32());
}

/**
 * A stateful UUIDv7 source whose ids strictly increase (as strings and as bytes), even for
 * many ids per millisecond or a clock that steps back: RFC 9562 section 6.2 method 2 —
 * within the same (or an earlier) millisecond the previous 74-bit random field is incremented
 * by a random step, and on overflow of that field the timestamp moves on by one millisecond.
 */
export function createUuidV7Source(random: Random): (nowMs: number) => string {
  let lastMs = -1;
  let randA = 0;
  let randBHigh = 0;
  let randBLow = 0;
  return (nowMs: number): string => {
    const unixMs = checkedTimestamp(nowMs);
    if (unixMs > lastMs) {
      lastMs = unixMs;
      // The top bit of rand_a starts at 0, leaving room for ~2^73 increments in this millisecond.
      randA = random.nextUint32() >>> 21;
      randBHigh = random.nextUint32() >>> 2;
      randBLow = random.nextUint32();
    } else {
      // A step of 1..2^16 keeps ids unguessable from their predecessor yet never wraps in practice.
      randBLow += 1 + (random.nextUint32() >>> 16);
      if (randBLow >= 2 ** 32) {
        randBLow -= 2 ** 32;
        randBHigh += 1;
        if (randBHigh >= 2 ** 30) {
          randBHigh = 0;
          randA += 1;
          if (randA >= 2 ** 12) {
            lastMs = checkedTimestamp(lastMs + 1);
            randA = 0;
          }
        }
      }
    }
    return formatUuidV7(lastMs, randA, randBHigh, randBLow);
  };
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(text: string): boolean {
  return UUID_V7.test(text);
}

/** The millisecond timestamp a UUIDv7 carries. */
export function uuidV7Timestamp(uuid: string): number {
  if (!isUuidV7(uuid)) throw new RangeError(`not a UUIDv7: ${uuid}`);
  return Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
}
