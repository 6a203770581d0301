import { resolveServices } from '../../scripts/services.ts';

/**
 * Integration tests find their services the same way the main command does (see scripts/services.ts)
 * and hand them to the test files through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const services = await resolveServices((line) => process.stderr.write(`\n[test services] ${line}`));
  process.stderr.write('\n');
  process.env.KAFKA_BROKERS = services.kafkaBrokers;
  process.env.DATABASE_URL = services.databaseUrl;
  (globalThis as { __servicesStop?: () => Promise<void> }).__servicesStop = services.stop;
}
