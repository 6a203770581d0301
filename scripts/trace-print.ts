/**
 * A stand-in collector for looking at traces without Jaeger or an OpenTelemetry Collector:
 * receives OTLP/HTTP JSON exports (what OTEL_EXPORTER_OTLP_ENDPOINT points the roles at) and, on
 * Ctrl-C, prints every trace as a tree of its spans, child under parent, with their links.
 *
 *   npm exec -- node scripts/trace-print.ts --port 4318 [--min-spans 3] [--grep orders-confirmed]
 *
 * `formatTraces` is the pure part: OTLP JSON export requests in, text out.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm exec -- node scripts/trace-print.ts [options]

Listens for OTLP/HTTP JSON trace exports (POST /v1/traces) and, on Ctrl-C or SIGTERM, prints each
trace received as an indented tree of its spans, then exits 0.

Options:
  --port PORT        port to listen on, on 127.0.0.1 (default 4318, OTLP/HTTP's)
  --min-spans N      print only traces of at least N spans (default 1)
  --grep TEXT        print only traces one of whose span names contains TEXT
  -h, --help         this help

Point the roles at it: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm run topology -- run`;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number; message?: string };
}
export interface OtlpExportRequest {
  resourceSpans?: Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
/** The attributes worth a line's room; the rest are in the export. */
const SHOWN = ['messaging.destination.partition.id', 'kafka.offset', 'messaging.message.id', 'messaging.batch.message_count'];

interface Row extends OtlpSpan {
  service: string;
}

const attributeText = (value: OtlpValue): string => String(value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue ?? '');

/** Every trace in the requests as a tree, oldest trace first; spans whose parent was not received start a tree of their own. */
export function formatTraces(requests: readonly OtlpExportRequest[], options: { minSpans?: number; grep?: string } = {}): string {
  const traces = new Map<string, Row[]>();
  for (const request of requests) {
    for (const resource of request.resourceSpans ?? []) {
      const service = attributeText(resource.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value ?? {}) || '?';
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const rows = traces.get(span.traceId) ?? [];
          rows.push({ ...span, service });
          traces.set(span.traceId, rows);
        }
      }
    }
  }
  const start = (row: Row) => BigInt(row.startTimeUnixNano);
  const out: string[] = [];
  const ordered = [...traces].sort(([, a], [, b]) => (minStart(a, start) < minStart(b, start) ? -1 : 1));
  for (const [traceId, rows] of ordered) {
    if (rows.length < (options.minSpans ?? 1)) continue;
    if (options.grep !== undefined && !rows.some((row) => row.name.includes(options.grep!))) continue;
    const ids = new Set(rows.map((row) => row.spanId));
    const children = new Map<string, Row[]>();
    for (const row of rows) {
      const parent = row.parentSpanId && ids.has(row.parentSpanId) ? row.parentSpanId : '';
      children.set(parent, [...(children.get(parent) ?? []), row]);
    }
    const t0 = minStart(rows, start);
    out.push(`trace ${traceId} (${rows.length} spans)`);
    const walk = (parent: string, depth: number) => {
      for (const row of (children.get(parent) ?? []).sort((a, b) => (start(a) < start(b) ? -1 : 1))) {
        const atMs = Number(start(row) - t0) / 1e6;
        const tookMs = Number(BigInt(row.endTimeUnixNano) - start(row)) / 1e6;
        const shown = (row.attributes ?? []).filter((attribute) => SHOWN.includes(attribute.key)).map((attribute) => `${attribute.key}=${attributeText(attribute.value)}`);
        const links = (row.links ?? []).map((link) => `${link.traceId === traceId ? 'this trace' : link.traceId.slice(0, 8)}/${link.spanId.slice(0, 8)}`);
        const failed = row.status?.code === 2 ? ` FAILED ${row.status.message ?? ''}` : '';
        out.push(
          `${'  '.repeat(depth + 1)}${row.name}  [${KINDS[row.kind ?? 0]}, ${row.service}]  +${atMs.toFixed(1)} ms, ${tookMs.toFixed(1)} ms${failed}` +
            `${shown.length > 0 ? `  ${shown.join(' ')}` : ''}${links.length > 0 ? `  links: ${links.slice(0, 3).join(', ')}${links.length > 3 ? ` (+${links.length - 3})` : ''}` : ''}`,
        );
        walk(row.spanId, depth + 1);
      }
    };
    walk('', 0);
  }
  return out.join('\n');
}

function minStart(rows: readonly Row[], start: (row: Row) => bigint): bigint {
  let min = start(rows[0]!);
  for (const row of rows) if (start(row) < min) min = start(row);
  return min;
}

async function main(): Promise<number> {
  let values: { port?: string; 'min-spans'?: string; grep?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string' }, 'min-spans': { type: 'string' }, grep: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port ?? '4318');
  const minSpans = Number(values['min-spans'] ?? '1');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return refuse('--port', 'a port 1..65535', values.port);
  if (!Number.isInteger(minSpans) || minSpans < 1) return refuse('--min-spans', 'a positive integer', values['min-spans']);
  const requests: OtlpExportRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || !request.url?.startsWith('/v1/traces')) {
        response.writeHead(404).end();
        return;
      }
      try {
        requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExportRequest);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        // Protobuf (the other OTLP/HTTP encoding) is not read here: say so to the exporter.
        response.writeHead(415, { 'content-type': 'text/plain' }).end('only OTLP/HTTP JSON is accepted');
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  process.stderr.write(`receiving OTLP/HTTP JSON traces on http://127.0.0.1:${port}/v1/traces; Ctrl-C prints them\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  server.close();
  process.stdout.write(`${formatTraces(requests, { minSpans, ...(values.grep === undefined ? {} : { grep: values.grep }) })}\n`);
  return 0;
}

function refuse(flag: string, expected: string, got: string | undefined): number {
  process.stderr.write(`invalid setting ${flag}: expected ${expected}, got ${JSON.stringify(got ?? '')}\n`);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
