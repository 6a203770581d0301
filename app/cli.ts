/**
 * `npm run topology -- <command>`: run the pipeline, describe its graph, or show its status.
 */
import { checkWritable, exitCodesHelp, nonEmptyFlag, parseCommandLine, refusePositionals, runMain, writeOutputFile } from '../core/cli.ts';
import { loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { memoryStores } from '../processors/reference-pipeline.ts';
import { describeTopology, formatDot, formatJson, formatMermaid, formatText, renderImage } from '../topology/describe/index.ts';
import { referenceAsyncApi } from './asyncapi.ts';
import { connectServices } from './bootstrap.ts';
import { CANCEL_FLAGS, CANCEL_USAGE, cancelCommand } from './cancel-command.ts';
import { OUTBOX_FLAGS, OUTBOX_USAGE, outboxCommand } from './outbox-command.ts';
import { referenceTopology } from './processor-app.ts';
import { RESET_FLAGS, RESET_USAGE, resetCommand } from './reset-command.ts';
import { RESTOCK_FLAGS, RESTOCK_USAGE, restockCommand } from './restock-command.ts';
import { RUN_FLAGS, RUN_USAGE, runCommand } from './run-command.ts';
import { buildStatus, formatStatus, outcomeTopicsOf, subtopologyTopics, takeSnapshot } from './status.ts';

const USAGE = `Usage: npm run topology -- <command> [options]

Commands:
  run        run the pipeline: order source, inventory processor, outbox relay (see run --help)
  describe   print the topology graph (Kafka Streams text, mermaid, dot, json; svg/png with Graphviz)
  status     per sub-topology and partition: owner, DB offset, high watermark, lag; per-replica rate; outbox and DLQ
  reset      rewrite a consumer group's stored offsets (earliest, latest, offset, datetime; see reset --help)
  outbox     list the outbox rows the relay parked (--parked) and retry them (--retry)
  restock    add units to a product's stock (RestockInventory), and wait until it is applied
  cancel     cancel an order (CancelOrder), and wait for the answer

Run "npm run topology -- <command> --help" for a command's options and exit codes.
Settings come from environment variables (see README: Configuration).

${exitCodesHelp()}`;

const DESCRIBE_USAGE = `Usage: npm run topology -- describe [--format text|mermaid|dot|json|asyncapi|svg|png] [--out FILE]

Prints the reference pipeline's topology. text is Kafka Streams' TopologyDescription format.
asyncapi is an AsyncAPI 3.0 document (JSON) of every topic: its messages' payload, headers
and key schemas, and which role sends and receives them (docs/asyncapi.json has the defaults).
svg and png need Graphviz's "dot" and --out FILE.

${exitCodesHelp([[1, 'Graphviz is missing or failed to render the image']])}`;

const STATUS_USAGE = `Usage: npm run topology -- status [--json] [--sample-ms MS]

Reads the stored offsets of the consumer group from PostgreSQL and the high watermarks from
Kafka, for every source topic of the topology (internal topics included); lag is high
watermark - DB offset, summed per sub-topology. Per-replica rates are measured over --sample-ms
(default 1000; 0 skips the second sample), and so are the outcome rates: orders confirmed and
rejected, and restocks applied (InventoryRestocked events, not units), per second, from the
high watermarks of their topics.

${exitCodesHelp()}`;

async function describeCommand(argv: string[]): Promise<number> {
  const { positionals, flags } = parseCommandLine(argv, { format: { type: 'string' }, out: { type: 'string' } }, DESCRIBE_USAGE);
  refusePositionals(positionals);
  const config = loadConfig(process.env, {});
  const format = flags.format ?? 'text';
  const out = nonEmptyFlag(flags, 'out', 'a file to write to');
  if (out !== undefined) checkWritable(out, '--out');
  const description = describeTopology(referenceTopology(config, memoryStores()));
  const formatters: Record<string, () => string> = {
    text: () => formatText(description),
    mermaid: () => formatMermaid(description),
    dot: () => formatDot(description),
    json: () => formatJson(description),
    asyncapi: () => referenceAsyncApi(config),
  };
  if (format === 'svg' || format === 'png') {
    if (!out) throw new ConfigError('--out', `a file to write the ${format} image to`, undefined);
    await renderImage(formatDot(description), format, out);
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  }
  const formatter = formatters[format];
  if (!formatter) throw new ConfigError('--format', 'one of text|mermaid|dot|json|asyncapi|svg|png', format);
  const output = formatter();
  if (out) {
    writeOutputFile(out, output.endsWith('\n') ? output : `${output}\n`);
    process.stderr.write(`wrote ${out}\n`);
  } else {
    process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  }
  return 0;
}

async function statusCommand(argv: string[]): Promise<number> {
  const { positionals, flags } = parseCommandLine(argv, { json: { type: 'boolean' }, 'sample-ms': { type: 'string' } }, STATUS_USAGE);
  refusePositionals(positionals);
  const config = loadConfig(process.env, {});
  const sampleMs = integerFlag(flags, 'sample-ms', { min: 0, max: 60_000, fallback: 1000 });
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const services = await connectServices(config, logger, { poolMax: 2 });
  try {
    const subtopologies = subtopologyTopics(referenceTopology(config, memoryStores()));
    const deps = { sequelize: services.sequelize, admin: services.admin, group: config.consumerGroup, topics: subtopologies.flatMap((subtopology) => subtopology.topics), dlqTopic: config.dlqTopic, outcomeTopics: outcomeTopicsOf(config) };
    const first = await takeSnapshot(deps);
    if (sampleMs > 0) await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const second = sampleMs > 0 ? await takeSnapshot(deps) : first;
    const report = buildStatus(config.consumerGroup, subtopologies, first, second);
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
    return 0;
  } finally {
    await services.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'describe':
      return describeCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'run': {
      const { positionals, flags } = parseCommandLine(rest, RUN_FLAGS, RUN_USAGE);
      refusePositionals(positionals);
      return runCommand(flags);
    }
    case 'reset':
      return resetCommand(parseCommandLine(rest, RESET_FLAGS, RESET_USAGE).flags);
    case 'outbox':
      return outboxCommand(parseCommandLine(rest, OUTBOX_FLAGS, OUTBOX_USAGE).flags);
    case 'restock': {
      const { positionals, flags } = parseCommandLine(rest, RESTOCK_FLAGS, RESTOCK_USAGE);
      refusePositionals(positionals);
      return restockCommand(flags);
    }
    case 'cancel': {
      const { positionals, flags } = parseCommandLine(rest, CANCEL_FLAGS, CANCEL_USAGE);
      refusePositionals(positionals);
      return cancelCommand(flags);
    }
    case undefined:
      // Plain `npm run topology` runs the pipeline, as the README promises.
      return runCommand({});
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`error: unknown command ${JSON.stringify(command)} (see npm run topology -- --help)\n`);
      return 2;
  }
}

runMain(() => main(process.argv.slice(2)));
