import { parseCommandLine, runMain } from '../core/cli.ts';
import { readSetting, SETTINGS } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { seed } from '../state/commerce/seed.ts';
import { connectDatabase, ensureDatabase } from '../state/db.ts';
import { migrate, migrationStatus, rollback } from '../state/migrator.ts';
import { FLAGS, parseStateCommand, USAGE } from './db-options.ts';

/** `node app/db-cli.ts migrate|rollback|status|seed`: schema and seed data of the pipeline's database. */
await runMain(async () => {
  const { positionals, flags } = parseCommandLine(process.argv.slice(2), FLAGS, USAGE);
  // Everything the user typed is checked before any connection, so a typo exits 2 even with the database down.
  const command = parseStateCommand(positionals, flags);
  const url = readSetting(SETTINGS.databaseUrl, process.env);
  const logger = createLogger({ level: readSetting(SETTINGS.logLevel, process.env), format: readSetting(SETTINGS.logFormat, process.env) }).child('db');
  // Bulk admin work may run long: no statement timeout unless the operator sets one.
  const session = {
    statementTimeoutMs: process.env.PG_STATEMENT_TIMEOUT_MS === undefined ? 0 : readSetting(SETTINGS.pgStatementTimeoutMs, process.env),
    connectTimeoutMs: readSetting(SETTINGS.pgConnectTimeoutMs, process.env),
    applicationName: `kstream-db-${command.command}`,
  };

  if (command.command === 'migrate' && (await ensureDatabase(url))) logger.info('created database', { url });
  const sequelize = await connectDatabase(url, logger, { poolMax: 2, session });
  try {
    switch (command.command) {
      case 'migrate':
        await migrate(sequelize, logger);
        break;
      case 'rollback': {
        if (typeof command.to === 'string') {
          const { executed } = await migrationStatus(sequelize, logger);
          if (!executed.includes(command.to)) {
            throw new UsageError(`no executed migration named ${JSON.stringify(command.to)} to roll back to (executed: ${executed.join(', ') || 'none'}; see npm run db:status)`);
          }
        }
        await rollback(sequelize, logger, command.to === undefined ? {} : { to: command.to });
        break;
      }
      case 'status': {
        const { executed, pending } = await migrationStatus(sequelize, logger);
        for (const name of executed) process.stdout.write(`up      ${name}\n`);
        for (const name of pending) process.stdout.write(`pending ${name}\n`);
        break;
      }
      case 'seed': {
        const { pending } = await migrationStatus(sequelize, logger);
        if (pending.length > 0) {
          process.stderr.write(`error: ${pending.length} migration(s) pending; run npm run db:migrate first\n`);
          return 1;
        }
        const result = await seed(sequelize, command);
        const what = command.products === undefined ? 'reference catalogue' : `${command.products} generated products`;
        logger.info(`seeded ${what}`, { ...result });
        break;
      }
    }
  } finally {
    await sequelize.close();
  }
});

