import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ConsoleServer, type Handler, HttpError, serveConsole } from '../../../app/console/http-server.ts';
import type { Route } from '../../../app/console/routes.ts';
import { silentLogger } from '../../../core/logger.ts';

const routes: Array<Route<Handler>> = [
  { method: 'GET', pattern: '/api/echo/:word', handler: async ({ params, query }) => ({ json: { word: params.word, n: query.get('n') } }) },
  { method: 'POST', pattern: '/api/body', handler: async ({ json }) => ({ status: 201, json: { got: await json() } }) },
  {
    method: 'GET',
    pattern: '/api/refuse',
    handler: async () => {
      throw new HttpError(409, 'not now');
    },
  },
  {
    method: 'GET',
    pattern: '/api/crash',
    handler: async () => {
      throw new Error('connect ECONNREFUSED postgres://app:s3cret@db:5432/x\n    at somewhere (file.ts:1:1)');
    },
  },
];

describe('the console HTTP server', () => {
  let server: ConsoleServer;
  beforeAll(async () => {
    server = await serveConsole({ port: 0, routes, logger: silentLogger });
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${server.url.replace(/\/$/, '')}${path}`, init);
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as unknown };
  };

  it('listens on loopback and says where', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('answers a route with JSON, its captures and query at hand', async () => {
    expect(await call('/api/echo/hello?n=3')).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: { word: 'hello', n: '3' } });
    expect(await call('/api/body', { method: 'POST', body: '{"a":[1]}' })).toEqual({ status: 201, type: 'application/json; charset=utf-8', body: { got: { a: [1] } } });
  });

  it('turns a refusal into its status and a one-line error, a request body that is not JSON or too large into 400 and 413', async () => {
    expect(await call('/api/refuse')).toMatchObject({ status: 409, body: { error: 'not now' } });
    expect(await call('/api/body', { method: 'POST', body: '{nope' })).toMatchObject({ status: 400, body: { error: 'the request body is not JSON' } });
    expect(await call('/api/body', { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) })).toMatchObject({ status: 413 });
  });

  it('answers an unexpected failure with 500 and its first line, the password redacted, never a stack trace', async () => {
    expect(await call('/api/crash')).toEqual({ status: 500, type: 'application/json; charset=utf-8', body: { error: 'connect ECONNREFUSED postgres://app:***@db:5432/x' } });
  });

  it('serves only GET for the page, and 404 for what is not there', async () => {
    expect(await call('/', { method: 'POST' })).toMatchObject({ status: 405 });
    expect(await call('/page/../../../etc/passwd')).toMatchObject({ status: 404 });
  });

  it('refuses a port in use with one line naming it', async () => {
    await expect(serveConsole({ port: server.port, routes, logger: silentLogger })).rejects.toThrow(`console unavailable: cannot listen on 127.0.0.1 port ${server.port} (--console-port / --port): it is in use by another program`);
  });
});
