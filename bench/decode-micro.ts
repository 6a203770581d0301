/**
 * A micro-benchmark of the per-record decode on the processor's hot path: an OrderCreated of
 * three lines, bytes to value, many times. `npm exec -- node bench/decode-micro.ts [rounds]`.
 * It prints the best and the median of five rounds: on a shared machine the best is the least disturbed.
 */
import { decodeOrderCreated, encodeEvent, orderCreated } from '../processors/events.ts';

const bytes = encodeEvent(
  orderCreated(
    {
      orderId: '0190f5b4-6a3e-7c1d-9b2a-3f4e5d6c7b8a',
      customerId: 'customer-42',
      lines: [
        { productId: 17, quantity: 2 },
        { productId: 23, quantity: 1 },
        { productId: 1024, quantity: 5 },
      ],
    },
    '2026-12-03T12:00:00.000Z',
  ),
);

const perRound = Number(process.argv[2] ?? 200_000);
for (let i = 0; i < 50_000; i++) decodeOrderCreated(bytes); // warm-up: let the JIT settle
const nsPerDecode: number[] = [];
for (let round = 0; round < 5; round++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) decodeOrderCreated(bytes);
  nsPerDecode.push(Number(process.hrtime.bigint() - start) / perRound);
}
nsPerDecode.sort((a, b) => a - b);
process.stdout.write(`decodeOrderCreated (3 lines, ${bytes.length} bytes): best ${nsPerDecode[0]!.toFixed(0)}, median ${nsPerDecode[2]!.toFixed(0)} ns/decode (rounds: ${nsPerDecode.map((ns) => ns.toFixed(0)).join(', ')})\n`);
