/**
 * Validates a public constructor's options when the object is built, so a wrong value fails
 * at once with a ConfigError naming the option (`OutboxRelay option batchSize: expected a
 * positive integer, got 0`) instead of misbehaving later, deep inside a loop.
 */
import { ConfigError } from './errors.ts';

export type OptionRule = 'positive-integer' | 'non-negative-integer' | 'positive-number' | 'non-empty-string' | 'function' | 'object';

const EXPECTED: Record<OptionRule, string> = {
  'positive-integer': 'a positive integer',
  'non-negative-integer': 'a non-negative integer',
  'positive-number': 'a positive number',
  'non-empty-string': 'a non-empty string',
  function: 'a function',
  object: 'an object',
};

function holds(rule: OptionRule, value: unknown): boolean {
  switch (rule) {
    case 'positive-integer':
      return Number.isSafeInteger(value) && (value as number) >= 1;
    case 'non-negative-integer':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'positive-number':
      return typeof value === 'number' && value > 0 && !Number.isNaN(value);
    case 'non-empty-string':
      return typeof value === 'string' && value.trim() !== '';
    case 'function':
      return typeof value === 'function';
    case 'object':
      return typeof value === 'object' && value !== null;
  }
}

function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks each named option against its rule; an option absent (undefined) is left to its
 * default unless `required` lists it. Throws on the first that fails.
 */
export function checkOptions<T extends object>(owner: string, options: T, rules: { [K in keyof T]?: OptionRule }, required: ReadonlyArray<keyof T> = []): void {
  for (const [name, rule] of Object.entries(rules) as Array<[keyof T & string, OptionRule]>) {
    const value = options[name];
    if (value === undefined && !required.includes(name)) continue;
    if (!holds(rule, value)) throw new ConfigError(`${owner} option ${name}`, EXPECTED[rule], value === undefined ? undefined : shown(value));
  }
}
