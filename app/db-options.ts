import { exitCodesHelp, type FlagSpec } from '../core/cli.ts';
import { ConfigError } from '../core/errors.ts';
import { integerFlag } from '../core/numbers.ts';

export const USAGE = `Usage: node app/db-cli.ts <command> [options]

Commands:
  migrate                 create the database if missing, then apply pending migrations
  rollback [--to NAME|0]  revert the last migration; --to NAME down to and including NAME; --to 0 all
  status                  list executed and pending migrations
  seed                    insert the reference catalogue (4 products; stock for 2 of them)
  seed --products N [--stock Q]
                          insert products 1..N ("Product N") with Q units each (default 1000000)

Seeding only inserts missing rows: existing products and stock are left as they are.

Environment:
  DATABASE_URL            default postgres://postgres@127.0.0.1:5432/kstream
  PG_CONNECT_TIMEOUT_MS   default 10000
  PG_STATEMENT_TIMEOUT_MS none for these commands unless set (seeding millions of rows takes a while)
  LOG_LEVEL, LOG_FORMAT   see the README

${exitCodesHelp([[1, 'PostgreSQL unavailable, a migration failed, or seed found migrations pending']])}`;

export const FLAGS: FlagSpec = {
  to: { type: 'string' },
  products: { type: 'string' },
  stock: { type: 'string' },
};

export type StateCommand =
  | { command: 'migrate' }
  | { command: 'status' }
  | { command: 'rollback'; to?: 0 | string }
  | { command: 'seed'; products?: number; stock?: number };

const MAX_PRODUCTS = 10_000_000;
const MAX_STOCK = 2_147_483_647;

/** Turns parsed argv into a command; a bad value throws ConfigError naming the flag (exit 2). */
export function parseStateCommand(positionals: string[], flags: Record<string, string | undefined>): StateCommand {
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new ConfigError('arguments', 'a single command', positionals.join(' '));
  const allowed: Record<string, string[]> = { migrate: [], status: [], rollback: ['to'], seed: ['products', 'stock'] };
  if (command === undefined || !(command in allowed)) throw new ConfigError('command', 'one of migrate|rollback|status|seed', command);
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && !allowed[command]!.includes(flag)) throw new ConfigError(`--${flag}`, `no --${flag} with ${command}`, value);
  }
  switch (command) {
    case 'rollback':
      if (flags.to === undefined) return { command };
      // An empty name must not fall back to "revert the last one".
      if (flags.to.trim() === '') throw new ConfigError('--to', 'a migration name (see db:status) or 0', flags.to);
      return { command, to: flags.to === '0' ? 0 : flags.to.trim() };
    case 'seed': {
      const products = integerFlag(flags, 'products', { min: 1, max: MAX_PRODUCTS });
      const stock = integerFlag(flags, 'stock', { min: 0, max: MAX_STOCK });
      if (stock !== undefined && products === undefined) throw new ConfigError('--stock', 'to come with --products', flags.stock);
      return { command, ...(products === undefined ? {} : { products }), ...(stock === undefined ? {} : { stock }) };
    }
    default:
      return { command: command as 'migrate' | 'status' };
  }
}
