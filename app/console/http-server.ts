/**
 * The console's HTTP server (node:http, no framework), bound to loopback only: it shows the
 * pipeline's data and replays dead letters, so it is for whoever sits at this machine (or
 * tunnels to it). Routes answer JSON; an error is `{"error": "..."}` with a 4xx or 5xx status,
 * never a stack trace. Everything outside /api/ is the page and its modules (page-assets.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, ServiceUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactSecrets } from '../../core/redact.ts';
import { pageAsset } from './page-assets.ts';
import { matchRoute, type Route } from './routes.ts';

/** Loopback only, whatever the machine's interfaces: the console has no authentication. */
export const CONSOLE_HOST = '127.0.0.1';

/** A request body larger than this is refused (413): a replay of a selection is a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

/** An answer a handler chose: a status and a one-line reason the client may show. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request body parsed as JSON (400 when it is not JSON). */
  json(): Promise<unknown>;
  request: http.IncomingMessage;
  response: http.ServerResponse;
}

/** JSON to send (status 200 unless told), or undefined when the handler answered on its own (a stream). */
export type Reply = { status?: number; json: unknown } | undefined;

export type Handler = (context: RequestContext) => Promise<Reply>;

export interface ConsoleServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function serveConsole(options: { port: number; routes: ReadonlyArray<Route<Handler>>; logger: Logger }): Promise<ConsoleServer> {
  const { routes, logger } = options;
  const server = http.createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      logger.warn('console request failed', { method: request.method, url: request.url, error: errorMessage(error) });
      if (!response.headersSent) sendJson(response, 500, { error: redactSecrets(oneLine(errorMessage(error))) });
      else response.destroy();
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    if (!path.startsWith('/api/')) return serveAsset(request, response, path);
    const match = matchRoute(routes, request.method ?? 'GET', path);
    if (!match.found) {
      if (match.status === 405) response.setHeader('allow', match.allow.join(', '));
      return sendJson(response, match.status, { error: match.status === 405 ? `${request.method} not allowed on ${path} (allowed: ${match.allow.join(', ')})` : `no such endpoint: ${path}` });
    }
    try {
      const reply = await match.handler({ params: match.params, query: url.searchParams, json: () => readJson(request), request, response });
      if (reply !== undefined) sendJson(response, reply.status ?? 200, reply.json);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      sendJson(response, error.status, { error: error.message });
    }
  }

  // A page left open keeps its event stream: it must not hold the shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'it is in use by another program' : error.code === 'EACCES' ? 'permission denied' : errorMessage(error);
      reject(new ServiceUnavailableError('console', `cannot listen on ${CONSOLE_HOST} port ${options.port} (--console-port / --port): ${why}`, error));
    });
    server.listen(options.port, CONSOLE_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${CONSOLE_HOST}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serveAsset(request: http.IncomingMessage, response: http.ServerResponse, path: string): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return sendJson(response, 405, { error: `${request.method} not allowed on ${path}` });
  }
  const asset = await pageAsset(path);
  if (asset === undefined) return sendJson(response, 404, { error: `no such page: ${path}` });
  response.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}

function oneLine(text: string): string {
  return text.split('\n')[0]?.trim() || 'internal error';
}
