/**
 * A private Apache Kafka 4.1 cluster (KRaft) for one verifier run, from the jars in .kafka/libs:
 * one combined broker+controller node, or three with a static quorum, replication factor 3 and
 * min.insync.replicas=2. Nodes can be SIGKILLed and restarted, SIGSTOPped and SIGCONTed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import { exec } from './exec.ts';
import { freePort } from './ports.ts';
import type { Workspace } from './workspace.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIBS = path.join(ROOT, '.kafka', 'libs');
const BROKER_JAR = 'kafka_2.13-4.1.1.jar';
const START_TIMEOUT_MS = 120_000;

export interface KafkaNode {
  id: number;
  address: string;
  readonly state: 'running' | 'killed' | 'paused';
}

export interface PrivateKafka {
  nodes: KafkaNode[];
  /** host:port of every node, for KAFKA_BROKERS. */
  brokers: string[];
  kill(index: number): void;
  /** Starts a killed node again and resolves once it answers a metadata request. */
  restart(index: number): Promise<void>;
  pause(index: number): void;
  resume(index: number): void;
  stop(): Promise<void>;
}

interface NodeState extends KafkaNode {
  state: 'running' | 'killed' | 'paused';
  port: number;
  controllerPort: number;
  dir: string;
  process: ChildProcess | undefined;
}

/** Fetches the broker's jars the way scripts/kafka/broker.sh does, when they are missing. */
export async function ensureKafkaJars(): Promise<void> {
  if (existsSync(path.join(LIBS, BROKER_JAR))) return;
  await exec('mvn', ['-q', '-B', '-f', path.join(ROOT, 'scripts', 'kafka', 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${LIBS}`], {
    timeoutMs: 600_000,
  });
}

/**
 * Kafka's Uuid.randomUuid().toString(): 16 random bytes, URL-safe base64 without padding, drawn
 * again when it starts with '-' (as Kafka does), which the storage tool would take for a flag.
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function startKafka(workspace: Workspace, usedPorts: Set<number>, count: 1 | 3): Promise<PrivateKafka> {
  await ensureKafkaJars();
  const nodes: NodeState[] = [];
  for (let index = 0; index < count; index++) {
    const port = await freePort(usedPorts);
    usedPorts.add(port);
    const controllerPort = await freePort(usedPorts);
    usedPorts.add(controllerPort);
    const id = index + 1;
    nodes.push({ id, port, controllerPort, address: `127.0.0.1:${port}`, dir: path.join(workspace.dir, `kafka-${id}`), state: 'killed', process: undefined });
  }
  const voters = nodes.map((node) => `${node.id}@127.0.0.1:${node.controllerPort}`).join(',');
  const cluster = clusterId();
  await Promise.all(
    nodes.map(async (node) => {
      mkdirSync(path.join(node.dir, 'data'), { recursive: true });
      writeFileSync(path.join(node.dir, 'server.properties'), serverProperties(node, count, voters));
      writeFileSync(path.join(node.dir, 'log4j2.yaml'), LOG4J);
      await exec('java', ['-cp', `${LIBS}/*`, `-Dlog4j2.configurationFile=${path.join(node.dir, 'log4j2.yaml')}`, 'kafka.tools.StorageTool', 'format', ...(count === 1 ? ['--standalone'] : []), '-t', cluster, '-c', path.join(node.dir, 'server.properties')]);
    }),
  );

  const heap = count === 1 ? '512m' : '384m';
  const launch = (node: NodeState) => {
    const log = openSync(path.join(node.dir, 'broker.log'), 'a');
    const child = spawn(
      'java',
      [`-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${path.join(node.dir, 'log4j2.yaml')}`, `-Dkafka.logs.dir=${node.dir}`, '-cp', `${LIBS}/*`, 'kafka.Kafka', path.join(node.dir, 'server.properties')],
      // Its own process group: Ctrl-C in the terminal reaches the verifier only, which stops the cluster in order.
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    workspace.trackChild(child.pid, `kafka node ${node.id}`);
    child.once('exit', () => {
      workspace.untrackChild(child.pid);
      if (node.process === child) {
        node.process = undefined;
        node.state = 'killed';
      }
    });
    node.process = child;
    node.state = 'running';
  };
  const waitReady = async (node: NodeState) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!node.process) throw new Error(`kafka node ${node.id} exited during start; see ${path.join(node.dir, 'broker.log')}`);
      if (await answersMetadata(node.address)) return;
      if (Date.now() > deadline) throw new Error(`kafka node ${node.id} did not answer on ${node.address} within ${START_TIMEOUT_MS / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  const stop = async () => {
    await Promise.all(
      nodes.map(async (node) => {
        const child = node.process;
        if (!child) return;
        if (node.state === 'paused') child.kill('SIGCONT');
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  workspace.onClose('stop Kafka', stop);
  for (const node of nodes) launch(node);
  await Promise.all(nodes.map(waitReady));

  return {
    nodes,
    brokers: nodes.map((node) => node.address),
    kill: (index) => {
      const node = nodes[index]!;
      node.process?.kill('SIGKILL');
      node.state = 'killed';
    },
    restart: async (index) => {
      const node = nodes[index]!;
      if (node.process) await new Promise((resolve) => (node.process ? node.process.once('exit', resolve) : resolve(undefined)));
      launch(node);
      await waitReady(node);
    },
    pause: (index) => {
      const node = nodes[index]!;
      node.process?.kill('SIGSTOP');
      node.state = 'paused';
    },
    resume: (index) => {
      const node = nodes[index]!;
      node.process?.kill('SIGCONT');
      node.state = 'running';
    },
    stop,
  };
}

/** A metadata request to this node alone: proves it serves clients, not just that the port is bound. */
async function answersMetadata(address: string): Promise<boolean> {
  const admin = await createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: [address] }, silentLogger).admin();
  try {
    await Promise.race([admin.listTopics(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => {});
  }
}

function serverProperties(node: NodeState, count: number, voters: string): string {
  const replication = count === 1 ? 1 : 3;
  const quorum = count === 1 ? `controller.quorum.bootstrap.servers=127.0.0.1:${node.controllerPort}` : `controller.quorum.voters=${voters}`;
  return `process.roles=broker,controller
node.id=${node.id}
${quorum}
listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${path.join(node.dir, 'data')}
num.partitions=12
default.replication.factor=${replication}
min.insync.replicas=${count === 1 ? 1 : 2}
offsets.topic.replication.factor=${replication}
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=${replication}
transaction.state.log.min.isr=${count === 1 ? 1 : 2}
share.coordinator.state.topic.replication.factor=${replication}
share.coordinator.state.topic.min.isr=${count === 1 ? 1 : 2}
group.initial.rebalance.delay.ms=0
# A SIGKILLed processor holds its partitions until its session expires: the broker's minimum, 6 s,
# as a pipeline expected to fail over fast would set it (the 45 s default would dominate every
# processor-kill). Members heartbeat every second, so a reassignment reaches them within one.
group.consumer.session.timeout.ms=6000
group.consumer.min.session.timeout.ms=6000
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=1000
auto.create.topics.enable=false
log.retention.hours=24
# The controller fences a broker that stopped heartbeating after this long, and only then moves its
# partition leaders: 6 s instead of the 9 s default, as a cluster expected to fail over fast would set it.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
`;
}

const LOG4J = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.log
        level: WARN
      - name: org.apache.kafka.storage
        level: WARN
`;
