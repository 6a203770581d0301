/**
 * A private single-node Kafka broker (KRaft) for tests that kill or pause the broker: its own
 * ports and a temporary data folder, never the shared broker on 9092. It uses the jars of
 * .kafka/libs (scripts/kafka/broker.sh fetches them) and Java from the PATH.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './kafka.ts';

const LIBS = fileURLToPath(new URL('../../.kafka/libs/*', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

export class PrivateBroker {
  readonly port: number;
  readonly #controllerPort: number;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, controllerPort: number, dir: string) {
    this.port = port;
    this.#controllerPort = controllerPort;
    this.#dir = dir;
  }

  /** Formats a fresh data folder and starts the broker; resolves once it accepts connections. */
  static async start(): Promise<PrivateBroker> {
    const broker = new PrivateBroker(await freePort(), await freePort(), mkdtempSync(join(tmpdir(), 'kstream-broker-')));
    broker.#configure();
    await broker.restart();
    return broker;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  #configure(): void {
    const host = '127.0.0.1';
    writeFileSync(
      join(this.#dir, 'server.properties'),
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.bootstrap.servers=${host}:${this.#controllerPort}`,
        `listeners=PLAINTEXT://${host}:${this.port},CONTROLLER://${host}:${this.#controllerPort}`,
        `advertised.listeners=PLAINTEXT://${host}:${this.port},CONTROLLER://${host}:${this.#controllerPort}`,
        'inter.broker.listener.name=PLAINTEXT',
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${join(this.#dir, 'data')}`,
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=3',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=false',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(this.#dir, 'log4j2.yaml'),
      'Configuration:\n  Appenders:\n    Console:\n      name: STDOUT\n      PatternLayout:\n        pattern: "[%d] %p %m (%c)%n"\n  Loggers:\n    Root:\n      level: WARN\n      AppenderRef:\n        - ref: STDOUT\n',
    );
    // A Kafka cluster id is 16 random bytes in URL-safe base64 without padding.
    const clusterId = randomBytes(16).toString('base64url');
    execFileSync('java', ['-cp', LIBS, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', join(this.#dir, 'server.properties')], {
      stdio: 'ignore',
    });
  }

  /** Starts (again) on the same data folder and ports; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('private broker already running');
    const log = openSync(join(this.#dir, 'broker.log'), 'a');
    this.#process = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx384m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(this.#dir, 'log4j2.yaml')}`,
        '-cp',
        LIBS,
        'kafka.Kafka',
        join(this.#dir, 'server.properties'),
      ],
      { stdio: ['ignore', log, log] },
    );
    await waitFor(async () => (this.running ? portOpen(this.port) : Promise.reject(new Error(`private broker exited; see ${this.#dir}/broker.log`))), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: `private broker on port ${this.port}`,
    });
  }

  /** SIGKILL: no shutdown, like a crashed machine. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /** Kills the broker and deletes its data. */
  async destroy(): Promise<void> {
    this.resume();
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
