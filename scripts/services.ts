/**
 * Finds (or starts) the services the project needs, in this order:
 *   1. environment variables (KAFKA_BROKERS, DATABASE_URL), when set;
 *   2. a service already answering locally (127.0.0.1:9092, 127.0.0.1:5432);
 *   3. the native Kafka broker from Maven Central artifacts (Java 17 + Maven), for Kafka;
 *   4. testcontainers, when a Docker engine answers;
 *   5. otherwise a one-line error naming these ways.
 * The log says which way was taken. Used by `npm run services:up|down` and by the test setup.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ServiceUnavailableError } from '../core/errors.ts';
import { redactSecrets } from '../core/redact.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCAL_KAFKA = '127.0.0.1:9092';
const LOCAL_DATABASE = 'postgres://postgres@127.0.0.1:5432/postgres';

export type Way = 'env' | 'local' | 'native' | 'testcontainers';

export interface ResolvedServices {
  kafkaBrokers: string;
  databaseUrl: string;
  kafkaWay: Way;
  databaseWay: Way;
  /** Stops whatever this call started (a testcontainer); the native broker keeps running for reuse. */
  stop(): Promise<void>;
}

type Say = (line: string) => void;

export function canConnect(hostPort: string, timeoutMs = 1500): Promise<boolean> {
  const [host, port] = splitHostPort(hostPort);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

function splitHostPort(hostPort: string): [string, number] {
  const index = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, index), Number(hostPort.slice(index + 1))];
}

function databaseHostPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '5432'}`;
}

async function commandExists(command: string): Promise<boolean> {
  try {
    await execFileAsync('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

async function dockerEngineAnswers(): Promise<boolean> {
  if (!(await commandExists('docker'))) return false;
  try {
    await execFileAsync('docker', ['info'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function runBrokerScript(action: 'up' | 'down'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/kafka/broker.sh'), action], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/kafka/broker.sh ${action} exited with ${code}`))));
  });
}

async function resolveKafka(say: Say): Promise<{ brokers: string; way: Way; stop: () => Promise<void> }> {
  const none = async () => {};
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    const first = fromEnv.split(',')[0]!.trim();
    if (!(await canConnect(first))) throw new ServiceUnavailableError('Kafka', `KAFKA_BROKERS=${fromEnv} does not answer`);
    say(`kafka: using KAFKA_BROKERS=${fromEnv} (from the environment)`);
    return { brokers: fromEnv, way: 'env', stop: none };
  }
  if (await canConnect(LOCAL_KAFKA)) {
    say(`kafka: using the broker already running at ${LOCAL_KAFKA}`);
    return { brokers: LOCAL_KAFKA, way: 'local', stop: none };
  }
  if ((await commandExists('java')) && ((await commandExists('mvn')) || existsSync(path.join(ROOT, '.kafka/libs')))) {
    say('kafka: starting the native broker (Maven Central artifacts, KRaft) at 127.0.0.1:9092');
    await runBrokerScript('up');
    return { brokers: LOCAL_KAFKA, way: 'native', stop: none };
  }
  if (await dockerEngineAnswers()) {
    say('kafka: starting apache/kafka with testcontainers');
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 9092, host: 9092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    return { brokers: LOCAL_KAFKA, way: 'testcontainers', stop: async () => void (await container.stop()) };
  }
  throw new ServiceUnavailableError(
    'Kafka',
    'no broker found: set KAFKA_BROKERS, start one at 127.0.0.1:9092, install Java 17 + Maven for the native broker (npm run services:up), or run a Docker engine (docker compose up -d)',
  );
}

async function resolveDatabase(say: Say): Promise<{ url: string; way: Way; stop: () => Promise<void> }> {
  const none = async () => {};
  const fromEnv = process.env.DATABASE_URL?.trim();
  if (fromEnv) {
    if (!(await canConnect(databaseHostPort(fromEnv)))) throw new ServiceUnavailableError('PostgreSQL', `DATABASE_URL server ${databaseHostPort(fromEnv)} does not answer`);
    say(`postgres: using DATABASE_URL (from the environment) at ${databaseHostPort(fromEnv)}`);
    return { url: fromEnv, way: 'env', stop: none };
  }
  if (await canConnect(databaseHostPort(LOCAL_DATABASE))) {
    say('postgres: using the server already running at 127.0.0.1:5432');
    return { url: LOCAL_DATABASE, way: 'local', stop: none };
  }
  if (await dockerEngineAnswers()) {
    say('postgres: starting postgres:16 with testcontainers');
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('postgres:16-alpine')
      .withExposedPorts(5432)
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return {
      url: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
      way: 'testcontainers',
      stop: async () => void (await container.stop()),
    };
  }
  throw new ServiceUnavailableError(
    'PostgreSQL',
    'no server found: set DATABASE_URL, start one at 127.0.0.1:5432, or run a Docker engine (docker compose up -d)',
  );
}

export async function resolveServices(say: Say = (line) => process.stderr.write(`${line}\n`)): Promise<ResolvedServices> {
  const kafka = await resolveKafka(say);
  const database = await resolveDatabase(say);
  return {
    kafkaBrokers: kafka.brokers,
    databaseUrl: database.url,
    kafkaWay: kafka.way,
    databaseWay: database.way,
    stop: async () => {
      await kafka.stop();
      await database.stop();
    },
  };
}

const USAGE = `usage: npm run services:up | npm run services:down | node scripts/services.ts status

  up      find or start Kafka and PostgreSQL (env vars -> running locally -> native broker -> Docker)
  down    stop the native Kafka broker this project started (PostgreSQL is left alone)
  status  say what answers where

Exit codes:
  0   success (status: both services answer)
  1   no broker could be found or started (up); a service does not answer (status)
  2   bad usage: no action or an unknown one
`;

async function main(argv: string[]): Promise<number> {
  const action = argv[0];
  if (argv.includes('--help') || argv.includes('-h') || action === undefined) {
    process.stdout.write(USAGE);
    return action === undefined ? 2 : 0;
  }
  if (action === 'up') {
    const services = await resolveServices();
    process.stdout.write(`KAFKA_BROKERS=${services.kafkaBrokers}\nDATABASE_URL=${redactSecrets(services.databaseUrl)}\n`);
    return 0;
  }
  if (action === 'down') {
    await runBrokerScript('down');
    return 0;
  }
  if (action === 'status') {
    const kafka = await canConnect(process.env.KAFKA_BROKERS?.split(',')[0] ?? LOCAL_KAFKA);
    const db = await canConnect(databaseHostPort(process.env.DATABASE_URL ?? LOCAL_DATABASE));
    process.stdout.write(`kafka: ${kafka ? 'up' : 'down'}\npostgres: ${db ? 'up' : 'down'}\n`);
    return kafka && db ? 0 : 1;
  }
  process.stderr.write(`error: unknown action ${JSON.stringify(action)} (see --help)\n`);
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`);
      process.exit(1);
    },
  );
}
