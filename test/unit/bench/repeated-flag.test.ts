import { describe, expect, it } from '@jest/globals';
import { takeRepeated } from '../../../bench/support/repeated-flag.ts';

describe('a repeated flag', () => {
  it('takes every occurrence, both spellings, in order, and leaves the rest as it was', () => {
    expect(takeRepeated(['--orders', '20000', '--lines', '1', '--skip-baseline', '--lines=1:30,2:70', '--lines', '3'], 'lines')).toEqual({
      values: ['1', '1:30,2:70', '3'],
      rest: ['--orders', '20000', '--skip-baseline'],
    });
  });

  it('none given: no values, argv untouched', () => {
    expect(takeRepeated(['--orders', '5'], 'lines')).toEqual({ values: [], rest: ['--orders', '5'] });
  });

  it('a flag without a value stays for the parser to refuse', () => {
    expect(takeRepeated(['--lines'], 'lines')).toEqual({ values: [], rest: ['--lines'] });
    expect(takeRepeated(['--lines', '--orders', '5'], 'lines')).toEqual({ values: [], rest: ['--lines', '--orders', '5'] });
  });

  it('another flag that starts with the same name is not taken', () => {
    expect(takeRepeated(['--lines-per-order', '2', '--latency-lines', '3'], 'lines')).toEqual({ values: [], rest: ['--lines-per-order', '2', '--latency-lines', '3'] });
  });

  it('nothing after -- is looked at', () => {
    expect(takeRepeated(['--lines', '1', '--', '--lines', '3'], 'lines')).toEqual({ values: ['1'], rest: ['--', '--lines', '3'] });
  });
});
