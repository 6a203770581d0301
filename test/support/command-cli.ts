/**
 * A test of one of the operator's commands (`topology restock`, `topology cancel`) on the real
 * broker and PostgreSQL: a database and topics of its own, the command run to its end or started
 * and watched, and a producer to write what the processor would answer.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../kafka/port.ts';
import { RoleProcess } from './child-process.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { brokersFromEnv, uniqueName } from './kafka.ts';
import { type OrderFlowTopics, orderFlowTopics } from './order-flow-topics.ts';

const CLI = fileURLToPath(new URL('../../app/cli.ts', import.meta.url));

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command still running, and what it wrote to stdout (kafkajs may add a Node warning of its own on stderr). */
export interface RunningCommand {
  process: RoleProcess;
  stdout(): string;
}

export type CommandTopics = OrderFlowTopics & { ORDERS_TOPIC: string; INVENTORY_TOPIC: string; DLQ_TOPIC: string };

export interface CommandFixture {
  db: TestDatabase;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  producer: KafkaProducer;
  topics: CommandTopics;
  partitions: number;
  /** `app/cli.ts <command> ...args` to its exit. */
  run(command: string, args: string[], env?: Record<string, string>): Promise<CommandRun>;
  /** `app/cli.ts <command> ...args`, started; killed by `cleanup` if still running. */
  start(command: string, args: string[], env?: Record<string, string>): RunningCommand;
  /** Kills what still runs, deletes the topics, drops the database. */
  cleanup(): Promise<void>;
}

export async function createCommandFixture(label: string, options: { partitions: number }): Promise<CommandFixture> {
  const db = await createTestDatabase(label);
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
  const admin = await kafka.admin();
  const producer = await kafka.producer();
  const prefix = label.replace(/_/g, '-');
  const topics: CommandTopics = { ORDERS_TOPIC: uniqueName(`${prefix}-orders`), INVENTORY_TOPIC: uniqueName(`${prefix}-inventory`), DLQ_TOPIC: uniqueName(`${prefix}-dlq`), ...orderFlowTopics(prefix) };
  const running: RoleProcess[] = [];
  const env = (extra: Record<string, string>) => ({ ...process.env, ...topics, DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), PARTITIONS: String(options.partitions), LOG_FORMAT: 'json', ...extra });
  return {
    db,
    kafka,
    admin,
    producer,
    topics,
    partitions: options.partitions,
    run(command, args, extra = {}) {
      return new Promise((resolve) => {
        execFile(process.execPath, [CLI, command, ...args], { env: env(extra), timeout: 90_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    },
    start(command, args, extra = {}) {
      const child = spawn(process.execPath, [CLI, command, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      const started = new RoleProcess(`${command} ${args.join(' ')}`, child);
      running.push(started);
      return { process: started, stdout: () => stdout };
    },
    async cleanup() {
      await Promise.all(running.filter((each) => each.running).map((each) => each.kill9()));
      await producer.close().catch(() => undefined);
      await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
      await admin.close().catch(() => undefined);
      await db.drop();
    },
  };
}
