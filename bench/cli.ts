/**
 * `npm run bench -- <name> [flags]`: runs bench/<name>.ts in its own Node process (each
 * benchmark owns its flags and its resources) and exits with its code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['source', 'processor', 'replicas', 'memory'] as const;
const USAGE = `Usage: npm run bench -- <${BENCHES.join('|')}> [flags]

  source     highest sustained order-source rate per Kafka client, p99 at 5k/s and 20k/s
  processor  order flow catch-up per client and lines per order, naive baseline, end-to-end latency
  replicas   scaling with processor replicas
  memory     memory use under load

Each writes bench/results/<name>-<date>.json and prints a JSON summary as its last stdout line.

Exit codes: the benchmark's own (0 when it ran and met its checks, 1 when it failed, 2 for bad
flags); 2 for a missing or unknown benchmark name.
`;

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  process.stdout.write(USAGE);
  process.exit(name === undefined ? 2 : 0);
}
if (!(BENCHES as readonly string[]).includes(name)) {
  process.stderr.write(`error: unknown benchmark "${name}" (expected one of ${BENCHES.join(', ')})\n`);
  process.exit(2);
}
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.ts`);
if (!existsSync(file)) {
  process.stderr.write(`error: benchmark "${name}" is not available yet: ${path.relative(process.cwd(), file)} does not exist\n`);
  process.exit(2);
}
const child = spawn(process.execPath, [...process.execArgv, file, ...rest], { stdio: 'inherit' });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
