import { describe, expect, it } from '@jest/globals';
import { type CountDistribution, isCountDistribution, parseCountDistribution } from '../../../core/count-distribution.ts';

const LINES = { min: 1, max: 100, noun: 'line count' };

function parsed(spec: string): CountDistribution {
  const result = parseCountDistribution(spec, LINES);
  if (!isCountDistribution(result)) throw new Error(`refused ${spec}: ${result.problem}`);
  return result;
}

const problemOf = (spec: string) => {
  const result = parseCountDistribution(spec, LINES);
  return isCountDistribution(result) ? undefined : result.problem;
};

describe('parseCountDistribution', () => {
  it('reads N as always N', () => {
    expect(parsed('1')).toEqual({ spec: '1', weights: [{ count: 1, weight: 1 }], mean: 1 });
    expect(parsed(' 100 ')).toEqual({ spec: '100', weights: [{ count: 100, weight: 1 }], mean: 100 });
  });

  it('reads A-B as uniform over A..B', () => {
    expect(parsed('2-5')).toEqual({
      spec: '2-5',
      weights: [2, 3, 4, 5].map((count) => ({ count, weight: 1 })),
      mean: 3.5,
    });
    expect(parsed('3 - 3').weights).toEqual([{ count: 3, weight: 1 }]);
  });

  it('reads N:W,... as weighted, in any order, with relative weights', () => {
    const mix = parsed('1:30,2:30,3:20,4:10,5:10');
    expect(mix.weights).toEqual([
      { count: 1, weight: 30 },
      { count: 2, weight: 30 },
      { count: 3, weight: 20 },
      { count: 4, weight: 10 },
      { count: 5, weight: 10 },
    ]);
    expect(mix.mean).toBeCloseTo(2.4, 12);
    expect(parsed('5:1, 1:3').weights).toEqual([
      { count: 1, weight: 3 },
      { count: 5, weight: 1 },
    ]);
    expect(parsed('2:0.5,4:1.5').mean).toBe(3.5);
  });

  it.each([
    ['0', 'a line count must be an integer from 1 to 100'],
    ['101', 'a line count must be an integer from 1 to 100'],
    ['-1', 'a line count must be an integer from 1 to 100'],
    ['2.5', 'a line count must be an integer from 1 to 100'],
    ['0-3', 'a line count must be an integer from 1 to 100, got "0"'],
    ['1-200', 'a line count must be an integer from 1 to 100, got "200"'],
    ['5-2', 'a range A-B needs A <= B, got 5-2'],
    ['1:30,0:5', 'a line count must be an integer from 1 to 100, got "0"'],
    ['1:30,2:0', 'a weight must be a positive number, got "0" in "2:0"'],
    ['1:30,2:x', 'a weight must be a positive number, got "x" in "2:x"'],
    ['1:30,1:20', 'line count 1 is given twice'],
    ['1:30,2', '"2" is not N:W; expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)'],
    ['1:2:3', '"1:2:3" is not N:W; expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)'],
    ['many', 'expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)'],
    ['', 'expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)'],
    ['1-2-3', 'expected N (always N), A-B (uniform) or N:W,N:W,... (weighted, e.g. 1:30,2:30,3:20,4:10,5:10)'],
  ])('refuses %p: %s', (spec, problem) => {
    expect(problemOf(spec)).toBe(problem);
  });

  it('names the counts by the noun and bounds it is given', () => {
    expect(parseCountDistribution('9', { min: 2, max: 8, noun: 'retry count' })).toEqual({ problem: 'a retry count must be an integer from 2 to 8' });
  });
});
