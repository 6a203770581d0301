/**
 * The one parser of the numbers and durations a user types, in a flag or a setting. Pure:
 * each returns undefined for text it does not accept, and the `*Flag` readers turn that into
 * a ConfigError naming the flag and what it expects, before anything connects.
 */
import { ConfigError } from './errors.ts';

export interface IntegerRange {
  min: number;
  max: number;
}

/** `42`, `-1`, `1_000_000` (underscores group digits); undefined unless a safe integer within the range. */
export function parseInteger(raw: string, range: IntegerRange): number | undefined {
  const text = raw.trim();
  if (!/^-?\d+(_\d+)*$/.test(text)) return undefined;
  const value = Number(text.replace(/_/g, ''));
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max ? value : undefined;
}

/** `2.5`, `10`: a finite decimal number within the range (`above`: strictly greater than it). */
export function parseDecimal(raw: string, range: { min?: number; above?: number; max: number }): number | undefined {
  const text = raw.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value > range.max) return undefined;
  if (range.min !== undefined && value < range.min) return undefined;
  if (range.above !== undefined && value <= range.above) return undefined;
  return value;
}

/** What an integer range expects, in words for an error message. */
export function describeIntegerRange({ min, max }: IntegerRange): string {
  if (max < Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return `an integer of at least ${min}`;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds of `90` (seconds), `500ms`, `30s`, `1.5m`, `1h`, or a sum such as `1m30s`; undefined otherwise. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return Math.round(total);
}

/** `75000` -> `1m15s`, `4200` -> `4.2s`: short enough for a progress line. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

type Flags = Record<string, string | undefined>;

/** `--name` as an integer within the range; `fallback` when absent. */
export function integerFlag(flags: Flags, name: string, range: IntegerRange & { fallback: number }): number;
export function integerFlag(flags: Flags, name: string, range: IntegerRange): number | undefined;
export function integerFlag(flags: Flags, name: string, range: IntegerRange & { fallback?: number }): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return range.fallback;
  const value = parseInteger(raw, range);
  if (value === undefined) throw new ConfigError(`--${name}`, describeIntegerRange(range), raw);
  return value;
}

/** `--name` as a duration within [min, max] milliseconds; `fallback` when absent. */
export function durationFlag(flags: Flags, name: string, range: { min: number; max: number; fallback: number }): number;
export function durationFlag(flags: Flags, name: string, range: { min: number; max: number }): number | undefined;
export function durationFlag(flags: Flags, name: string, range: { min: number; max: number; fallback?: number }): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return range.fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < range.min || ms > range.max) {
    throw new ConfigError(`--${name}`, `a duration from ${formatDuration(range.min)} to ${formatDuration(range.max)} (e.g. 30s, 5m, 1m30s)`, raw);
  }
  return ms;
}
