/**
 * `npm run console`: the console on its own, against the database and broker of the settings
 * (DATABASE_URL, KAFKA_BROKERS, CONSUMER_GROUP, the topic names), beside a pipeline that runs
 * elsewhere. `topology run --console-port PORT` serves the same console inside the pipeline.
 */
import { exitCodesHelp, parseCommandLine, refusePositionals, runMain } from '../../core/cli.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { integerFlag } from '../../core/numbers.ts';
import { connectServices } from '../bootstrap.ts';
import { DEFAULT_CONSOLE_PORT, DEFAULT_INTERVAL_MS, startConsole } from './console-app.ts';

const USAGE = `Usage: npm run console -- [--port PORT] [--interval-ms MS] [--group NAME]

Serves the operator's console on http://127.0.0.1:PORT/ (loopback only): the topology graph with
records/s per node and lag per sub-topology, partitions, replicas, the outbox and its parked rows,
the dead letters (inspect, replay), and order and product look-ups, updated live. It reads the
database and the broker the settings name; the pipeline may run in other processes or hosts.
The URL is printed at start; open it in a browser (an SSH tunnel works: ssh -L PORT:127.0.0.1:PORT).

Options:
  --port PORT          the port to listen on (default ${DEFAULT_CONSOLE_PORT})
  --interval-ms MS     how often the numbers are sampled and pushed to the page (default ${DEFAULT_INTERVAL_MS}; 200..60000)
  --group NAME         consumer group whose offsets are shown (env CONSUMER_GROUP)
  -h, --help           this help

${exitCodesHelp([[1, 'PostgreSQL or Kafka is unavailable at start, or the port is in use']])}`;

async function main(argv: string[]): Promise<number> {
  const { positionals, flags } = parseCommandLine(argv, { port: { type: 'string' }, 'interval-ms': { type: 'string' }, group: { type: 'string' } }, USAGE);
  refusePositionals(positionals);
  const port = integerFlag(flags, 'port', { min: 1, max: 65_535, fallback: DEFAULT_CONSOLE_PORT });
  const intervalMs = integerFlag(flags, 'interval-ms', { min: 200, max: 60_000, fallback: DEFAULT_INTERVAL_MS });
  const config = loadConfig(process.env, { group: flags.group });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const services = await connectServices(config, logger, { poolMax: 4 });
  const running = await startConsole(config, services, { port, intervalMs, logger }).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  logger.info(`console: open ${running.url} (Ctrl-C to stop)`, { url: running.url, group: config.consumerGroup });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.stop();
  await services.close();
  return 0;
}

runMain(() => main(process.argv.slice(2)));
