import { ConfigError } from '../../core/errors.ts';

/** A positive integer flag (underscores allowed: 1_000_000), or `fallback` when absent. */
export function positiveFlag(flags: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`--${name}`, 'a positive integer', raw);
  return value;
}
