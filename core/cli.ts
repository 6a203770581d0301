import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, ServiceUnavailableError, errorMessage } from './errors.ts';

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
    const line = ambiguous ? `${ambiguous[1]} needs a value; write a value starting with "-" as ${ambiguous[1]}=-N` : message.split('\n')[0];
    process.stderr.write(`error: ${line}\n(see --help)\n`);
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

/**
 * Runs a command's main function: a ConfigError prints its one line and exits 2, an
 * unreachable service prints one line and exits 1, anything else is logged with its stack.
 */
export async function runMain(main: () => Promise<number | undefined>): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof ServiceUnavailableError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
