/**
 * Carries out one planned fault against the private services and the role processes, and says
 * when the service was back (the moment recovery is measured from).
 */
import type { KafkaProducer } from '../kafka/port.ts';
import { buildPoisonRecords, type PoisonRecord } from './poison.ts';
import type { SupervisedRole } from './roles.ts';
import type { PlannedFault } from './schedule.ts';
import type { PrivateKafka } from './services/kafka.ts';
import type { PrivatePostgres } from './services/postgres.ts';

export interface FaultTargets {
  kafka: PrivateKafka;
  postgres: PrivatePostgres;
  database: string;
  source: SupervisedRole;
  relay: SupervisedRole;
  processors: SupervisedRole[];
  ordersTopic: string;
  productIds: number[];
  /** A producer of the verifier's own, for poison records (created on first use). */
  producer: () => Promise<KafkaProducer>;
  /** Poison records produced so far: the checks look for each in the DLQ. */
  poison: PoisonRecord[];
  clock: () => number;
}

export interface FaultExecution {
  startedAtMs: number;
  backAtMs: number;
  detail: string;
}

export function describeTarget(fault: PlannedFault, targets: Pick<FaultTargets, 'processors' | 'kafka'>): string {
  if (fault.kind === 'processor-kill') return targets.processors[fault.target]?.spec.name ?? '';
  if (fault.kind === 'broker-kill' || fault.kind === 'broker-pause') return targets.kafka.nodes.length > 1 ? `node ${fault.target + 1}` : '';
  return '';
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export async function executeFault(fault: PlannedFault, targets: FaultTargets, round: number): Promise<FaultExecution> {
  const startedAtMs = targets.clock();
  const done = (detail: string): FaultExecution => ({ startedAtMs, backAtMs: targets.clock(), detail });
  // With three brokers the cluster never went away: losing one must not stop processing, so
  // recovery counts from the moment the broker was lost, not from its return. A paused broker is
  // not lost: it keeps its connections open and clients only learn of it through their request
  // timeouts, so a pause counts from SIGCONT whatever the cluster (the stall it causes is reported).
  const clusterStayedUp = (detail: string): FaultExecution =>
    targets.kafka.nodes.length > 1 ? { startedAtMs, backAtMs: startedAtMs, detail: `${detail} (the cluster stayed up: recovery counted from the fault)` } : done(detail);
  switch (fault.kind) {
    case 'processor-kill':
    case 'relay-kill':
    case 'source-kill': {
      const role = fault.kind === 'processor-kill' ? targets.processors[fault.target]! : fault.kind === 'relay-kill' ? targets.relay : targets.source;
      await role.kill9(fault.outageMs);
      return done(`SIGKILL ${role.spec.name}, started again after ${seconds(fault.outageMs)}`);
    }
    case 'broker-kill': {
      targets.kafka.kill(fault.target);
      await new Promise((resolve) => setTimeout(resolve, fault.outageMs));
      const restartAt = targets.clock();
      await targets.kafka.restart(fault.target);
      return clusterStayedUp(`SIGKILL broker ${fault.target + 1}, restarted after ${seconds(fault.outageMs)}, answering ${seconds(targets.clock() - restartAt)} later`);
    }
    case 'broker-pause': {
      targets.kafka.pause(fault.target);
      await new Promise((resolve) => setTimeout(resolve, fault.outageMs));
      targets.kafka.resume(fault.target);
      return done(`SIGSTOP broker ${fault.target + 1} for ${seconds(fault.outageMs)}, then SIGCONT`);
    }
    case 'pg-restart': {
      await targets.postgres.restart();
      return done(`pg_ctl restart -m fast took ${seconds(targets.clock() - startedAtMs)}`);
    }
    case 'pg-backends': {
      const terminated = await targets.postgres.terminateBackends(targets.database);
      return done(`pg_terminate_backend on ${terminated} backends`);
    }
    case 'poison': {
      const records = buildPoisonRecords(targets.ordersTopic, targets.productIds, round, Date.now());
      const producer = await targets.producer();
      await producer.send(records.map((record) => record.message));
      targets.poison.push(...records);
      return done(`${records.length} records: ${records.map((record) => record.kind).join(', ')}`);
    }
  }
}
