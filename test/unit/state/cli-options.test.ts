import { describe, expect, it } from '@jest/globals';
import { parseStateCommand } from '../../../app/db-options.ts';
import { ConfigError } from '../../../core/errors.ts';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseStateCommand', () => {
  it('parses each command', () => {
    expect(parseStateCommand(['migrate'], {})).toEqual({ command: 'migrate' });
    expect(parseStateCommand(['status'], {})).toEqual({ command: 'status' });
    expect(parseStateCommand(['rollback'], {})).toEqual({ command: 'rollback' });
    expect(parseStateCommand(['rollback'], { to: '0' })).toEqual({ command: 'rollback', to: 0 });
    expect(parseStateCommand(['rollback'], { to: '0002-orders' })).toEqual({ command: 'rollback', to: '0002-orders' });
    expect(parseStateCommand(['seed'], {})).toEqual({ command: 'seed' });
    expect(parseStateCommand(['seed'], { products: '100000', stock: '0' })).toEqual({ command: 'seed', products: 100000, stock: 0 });
  });

  it.each([['0'], ['abc'], ['-5'], ['1.5'], ['99999999999']])('rejects --products %s naming the flag', (raw) => {
    const error = configErrorOf(() => parseStateCommand(['seed'], { products: raw }));
    expect(error.setting).toBe('--products');
    expect(error.message).toContain(JSON.stringify(raw));
  });

  it('rejects a negative or non-integer --stock', () => {
    expect(configErrorOf(() => parseStateCommand(['seed'], { products: '5', stock: '-1' })).setting).toBe('--stock');
    expect(configErrorOf(() => parseStateCommand(['seed'], { products: '5', stock: 'lots' })).setting).toBe('--stock');
  });

  it('refuses --stock without --products, since the reference catalogue has fixed stock', () => {
    expect(configErrorOf(() => parseStateCommand(['seed'], { stock: '5' })).setting).toBe('--stock');
  });

  it('refuses flags that do not belong to the command', () => {
    expect(configErrorOf(() => parseStateCommand(['migrate'], { products: '5' })).setting).toBe('--products');
    expect(configErrorOf(() => parseStateCommand(['seed'], { to: '0' })).setting).toBe('--to');
  });

  it('refuses a missing, unknown or doubled command', () => {
    expect(configErrorOf(() => parseStateCommand([], {})).setting).toBe('command');
    expect(configErrorOf(() => parseStateCommand(['drop'], {})).setting).toBe('command');
    expect(configErrorOf(() => parseStateCommand(['migrate', 'seed'], {})).setting).toBe('arguments');
  });
});
