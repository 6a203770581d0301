import { describe, expect, it } from '@jest/globals';
import { commandLine } from '../../../bench/memory.ts';

describe('memory bench: the command line its results record', () => {
  it('quotes an argument with spaces, so the line can be pasted into a shell', () => {
    expect(commandLine(['--node-options=--max-old-space-size=80 --max-semi-space-size=8', '--records', '100'], {})).toBe(
      "node bench/memory.ts '--node-options=--max-old-space-size=80 --max-semi-space-size=8' --records 100",
    );
  });

  it('writes the runtime settings taken from the environment before it, and no other variable', () => {
    expect(commandLine([], { MAX_INFLIGHT_TOTAL: '5000', FETCH_MAX_BYTES: '131072', DATABASE_URL: 'postgres://user:secret@db/x', HOME: '/root' })).toBe(
      'MAX_INFLIGHT_TOTAL=5000 FETCH_MAX_BYTES=131072 node bench/memory.ts',
    );
  });

  it('escapes a single quote inside a quoted word', () => {
    expect(commandLine(["it's here"], {})).toBe(`node bench/memory.ts 'it'\\''s here'`);
  });
});
