import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError, errorMessage, ServiceUnavailableError, UsageError } from './errors.ts';
import { redactSecrets } from './redact.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv for a command; `--help` prints `usage` and exits 0, an unknown flag prints one
 * line naming it and exits 2. Returns positionals and flags as strings (booleans as 'true').
 */
export function parseCommandLine(argv: string[], options: FlagSpec, usage: string): { positionals: string[]; flags: Record<string, string | undefined> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    const message = errorMessage(error);
    const ambiguous = /Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
    // parseArgs reads `--rate -5` as a missing value followed by a flag; say how to pass it.
    const unknown = /Unknown option '([^']+)'/.exec(message);
    const line = ambiguous
      ? `${ambiguous[1]} needs a value; write a value starting with "-" as ${ambiguous[1]}=-N`
      : unknown
        ? `unknown option ${unknown[1]}`
        : (message.split('\n')[0] ?? message);
    process.stderr.write(`error: ${redactSecrets(line)} (see --help)\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    process.exit(0);
  }
  const flags: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    if (key !== 'help') flags[key] = value === undefined ? undefined : String(value);
  }
  return { positionals: parsed.positionals, flags };
}

/** A command that takes no positional arguments refuses stray ones instead of ignoring them. */
export function refusePositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new ConfigError('arguments', 'none (options only; see --help)', positionals.join(' '));
}

/** Reads a flag that names something (an id, a file): absent stays undefined, empty is refused. */
export function nonEmptyFlag(flags: Record<string, string | undefined>, name: string, expected: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new ConfigError(`--${name}`, expected, value);
  return value;
}

/**
 * Fails early, before any work, when a file the user named cannot be written at the end
 * (its directory is missing or read-only, or the path is a directory).
 */
export function checkWritable(path: string, flag: string): void {
  let problem: string | undefined;
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) problem = 'it is a directory';
    else accessSync(dirname(path), constants.W_OK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    problem = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : errorMessage(error);
  }
  if (problem) throw new UsageError(`cannot write ${flag} ${path}: ${problem}`);
}

/** Writes a file the user named; a path that cannot be written is their error (exit 2), in one line. */
export function writeOutputFile(path: string, content: string | Uint8Array, flag = '--out'): void {
  try {
    writeFileSync(path, content);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why: Record<string, string> = { ENOENT: 'its directory does not exist', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'a part of the path is not a directory', EROFS: 'read-only file system' };
    throw new UsageError(`cannot write ${flag} ${path}: ${(typeof code === 'string' && why[code]) || errorMessage(error)}`, error);
  }
}

/**
 * Runs a command's main function and turns what it throws into one line on stderr and an exit
 * code, never a stack trace: a ConfigError or UsageError (bad setting, flag or argument) exits
 * 2, an unreachable service or any other failure exits 1. The stack of an unexpected error is
 * printed only with LOG_LEVEL=debug, for whoever debugs the program itself. Passwords are
 * redacted from every line.
 */
export async function runMain(main: () => Promise<number | undefined>): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (error) {
    process.stderr.write(`${failureLine(error)}\n`);
    if (!(error instanceof ConfigError || error instanceof UsageError || error instanceof ServiceUnavailableError) && process.env.LOG_LEVEL === 'debug' && error instanceof Error) {
      process.stderr.write(`${redactSecrets(error.stack ?? '')}\n`);
    }
    process.exit(exitCodeOf(error));
  }
}

/** 2 for what the user can fix in the command line or settings, 1 for everything else. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
}

/** `error: <first line of the message>`, without passwords. */
export function failureLine(error: unknown): string {
  const message = errorMessage(error).split('\n')[0]?.trim() || (error instanceof Error ? error.name : 'unknown error');
  return `error: ${redactSecrets(message)}`;
}

/**
 * The exit-code section every command's --help ends with: 0, 1 and 2 as runMain gives them;
 * `own` adds a command's other codes, or says in its own words what 0, 1 or 2 mean for it.
 */
export function exitCodesHelp(own: ReadonlyArray<readonly [number, string]> = []): string {
  const rows = new Map<number, string>([
    [0, 'success'],
    [1, 'a service (PostgreSQL, Kafka) is unavailable, or the command failed at run time'],
    [2, 'bad usage or configuration: an unknown flag, a bad value, a missing argument'],
  ]);
  for (const [code, what] of own) rows.set(code, what);
  return `Exit codes:\n${[...rows].sort((a, b) => a[0] - b[0]).map(([code, what]) => `  ${String(code).padEnd(4)}${what}`).join('\n')}\n`;
}
