import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../core/logger.ts';

function capture(format: 'auto' | 'json' | 'pretty', tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { logger: createLogger({ format, stream }), text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines with namespace and record coordinates when the output is not a terminal', async () => {
    const { logger, text } = capture('auto', false);
    logger.child('processor').child('task', { topic: 'orders', partition: 3 }).info('batch committed', { offset: 42n });
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(text().trim());
    expect(line).toMatchObject({ level: 'info', message: 'batch committed', ns: 'processor.task', topic: 'orders', partition: 3 });
    expect(String(line.offset)).toBe('42');
  });

  it('writes readable lines on a terminal', async () => {
    const { logger, text } = capture('auto', true);
    logger.child('relay').warn('retrying', { delayMs: 200 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).toMatch(/\[relay\] retrying delayMs=200/);
    expect(() => JSON.parse(text())).toThrow();
  });
});
