/**
 * `npm run verify`: the built-in exactly-once verifier (see --help). Exit 0 when every check
 * held, 1 when one failed, 2 on bad usage, 130 when interrupted; whatever happens, the private
 * services and role processes it started are stopped before it exits.
 */
import { parseCommandLine, runMain } from '../core/cli.ts';
import { FLAGS, parseVerifyOptions, USAGE } from './options.ts';
import { formatReport, reportJson } from './report.ts';
import { runVerification } from './run.ts';
import { sweepLeftovers, Workspace } from './services/workspace.ts';

await runMain(async () => {
  const { positionals, flags } = parseCommandLine(process.argv.slice(2), FLAGS, USAGE);
  const options = parseVerifyOptions(flags, positionals);
  const say = (line: string) => process.stderr.write(`${line}\n`);

  for (const dir of sweepLeftovers()) say(`removed the leftovers of an earlier run: ${dir}`);
  const workspace = new Workspace();
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      say(`second ${signal}: killing everything now`);
      process.exit(130);
    }
    say(`${signal}: stopping everything this run started`);
    abort.abort();
    void workspace.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const result = await runVerification({ options, workspace, signal: abort.signal, say });
    result.cleanupProblems = await workspace.close();
    process.stdout.write(`${options.json ? reportJson(result) : formatReport(result)}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    if (abort.signal.aborted) return new Promise<number>(() => {});
    const problems = await workspace.close();
    say(`error: the verifier could not complete: ${(error as Error).message}${problems.length > 0 ? ` (cleanup: ${problems.join('; ')})` : ''}`);
    return 1;
  }
});
