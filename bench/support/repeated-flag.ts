/**
 * A flag given several times: node's parseArgs (core/cli.ts parseCommandLine) keeps only the last
 * of a repeated string flag, so a bench flag that may be repeated is taken out of argv first.
 */

/**
 * Takes every `--NAME VALUE` and `--NAME=VALUE` out of argv, in order, and returns them with the
 * rest. A `--NAME` without a value (at the end, or before another flag) is left for the parser
 * to refuse; nothing after `--` is looked at.
 */
export function takeRepeated(argv: readonly string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
    else if (arg === `--${name}` && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values.push(argv[++i]!);
    else rest.push(arg);
  }
  return { values, rest };
}
