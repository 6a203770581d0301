/**
 * A backend terminated the moment it let a client in sends ReadyForQuery and the FATAL error in
 * one socket read. Sequelize adds its 'error' listener only after the first, so without the
 * guarded client the error is emitted with no listener and ends the process. A scripted
 * server plays that backend byte for byte (the wire protocol, not a database).
 */

import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../core/logger.ts';
import { connectDatabase } from '../../../state/db.ts';

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

const fields = (entries: Array<[string, string]>) => Buffer.concat([...entries.map(([code, text]) => Buffer.from(`${code}${text}\0`, 'utf8')), Buffer.from([0])]);

/** AuthenticationOk, ReadyForQuery, then FATAL 57P01 — all in one write, then the socket closes. */
const LET_IN_AND_TERMINATE = Buffer.concat([
  message('R', int32(0)),
  message('Z', Buffer.from('I')),
  message('E', fields([['S', 'FATAL'], ['V', 'FATAL'], ['C', '57P01'], ['M', 'terminating connection due to administrator command']])),
]);

describe('pooled PostgreSQL sessions', () => {
  let server: net.Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('survive a backend terminated as it let them in: the connect fails, nothing is thrown from the socket', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    server = net.createServer((socket) => {
      // The startup message is all the client sends first; answer it in one go.
      socket.once('data', () => socket.end(LET_IN_AND_TERMINATE));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(connectDatabase(`postgres://postgres@127.0.0.1:${port}/scripted`, silentLogger)).rejects.toThrow(`127.0.0.1:${port}`);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});
