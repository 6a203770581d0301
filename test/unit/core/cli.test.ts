import { describe, expect, it } from '@jest/globals';
import { exitCodeOf, exitCodesHelp, failureLine } from '../../../core/cli.ts';
import { ConfigError, ServiceUnavailableError, UsageError } from '../../../core/errors.ts';

describe('how a command reports what it throws', () => {
  it('exits 2 for what the user can fix, 1 for everything else', () => {
    expect(exitCodeOf(new ConfigError('--x', 'a number', 'y'))).toBe(2);
    expect(exitCodeOf(new UsageError('no such migration'))).toBe(2);
    expect(exitCodeOf(new ServiceUnavailableError('PostgreSQL', 'down'))).toBe(1);
    expect(exitCodeOf(new TypeError('a bug'))).toBe(1);
    expect(exitCodeOf('a string')).toBe(1);
  });

  it('prints the first line of the message, without a stack and without a password', () => {
    const error = new Error('cannot connect to postgres://app:s3cret@db/x\n    at somewhere (file.ts:1:1)');
    expect(failureLine(error)).toBe('error: cannot connect to postgres://app:***@db/x');
    expect(failureLine(new Error(''))).toBe('error: Error');
  });

  it('lists 0, 1 and 2 in --help, in a command\'s own words where it has them', () => {
    expect(exitCodesHelp([[3, 'errors happened'], [1, 'the database is down']])).toBe(
      'Exit codes:\n  0   success\n  1   the database is down\n  2   bad usage or configuration: an unknown flag, a bad value, a missing argument\n  3   errors happened\n',
    );
  });
});
