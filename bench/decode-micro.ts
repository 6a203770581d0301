/**
 * A micro-benchmark of the per-record decode on the processor's hot path: an OrderCreated of
 * three lines, bytes to value, many times. `npm exec -- node bench/decode-micro.ts [rounds]`.
 * It measures the process's CPU time, not wall time (on a shared machine a wall clock also counts
 * the time other processes had the core), and prints the best and the median of 15 rounds, for the whole decode and for the bytes-to-JSON part alone (UTF-8 and JSON.parse),
 * so the difference is what the checks and the copy cost.
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

const perRound = Number(process.argv[2] ?? 100_000);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function measure(decode: () => unknown): number[] {
  for (let i = 0; i < 50_000; i++) decode(); // warm-up: let the JIT settle
  const nsPerDecode: number[] = [];
  for (let round = 0; round < 15; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < perRound; i++) decode();
    const used = process.cpuUsage(start);
    nsPerDecode.push(((used.user + used.system) * 1000) / perRound);
  }
  return nsPerDecode.sort((a, b) => a - b);
}

const shown = (ns: number[]) => `best ${ns[0]!.toFixed(0)}, median ${ns[7]!.toFixed(0)} ns CPU`;
const parseOnly = measure(() => JSON.parse(utf8.decode(bytes)));
const decode = measure(() => decodeOrderCreated(bytes));
process.stdout.write(`decodeOrderCreated (3 lines, ${bytes.length} bytes): ${shown(decode)}\n  of which UTF-8 + JSON.parse: ${shown(parseOnly)}\n  checks and copy (best - best): ${(decode[0]! - parseOnly[0]!).toFixed(0)} ns\n`);
