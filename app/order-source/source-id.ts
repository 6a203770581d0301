import { ConfigError } from '../../core/errors.ts';

/** `--source-id` of the load test and of `run`: an id that names a source, default source-1. */
export function parseSourceId(raw: string | undefined): string {
  const sourceId = raw ?? 'source-1';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(sourceId)) {
    throw new ConfigError('--source-id', 'letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)', sourceId);
  }
  return sourceId;
}
