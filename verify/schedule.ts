/**
 * The fault schedule: which fault happens when, against which process, for how long. A pure
 * function of the options and `--seed`, so a failing run can be repeated fault for fault.
 */
import { deriveRandom } from '../core/random.ts';

export const FAULT_KINDS = ['processor-kill', 'relay-kill', 'source-kill', 'broker-kill', 'broker-pause', 'pg-restart', 'pg-backends', 'poison'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Nominal start, milliseconds after the load started. A fault never starts before the previous one recovered. */
  atMs: number;
  /** Which processor replica (0-based) or broker node (0-based) it hits; 0 for the others. */
  target: number;
  /**
   * How long the service stays away: a broker kill waits this long before the restart, a pause
   * before SIGCONT, a role kill before the supervisor starts the role again. 0 for the rest.
   */
  outageMs: number;
}

export interface ScheduleOptions {
  faults: readonly FaultKind[];
  seed: number;
  durationMs: number;
  processorReplicas: number;
  brokers: number;
  /** broker-kill outage; a pause lasts half of it. */
  brokerOutageMs: number;
  /** How long a killed role process stays down before it is started again. */
  roleRestartDelayMs: number;
}

/** The outages (60 s broker kill, 30 s pause), scaled down for runs shorter than 5 minutes. */
export const FULL_BROKER_OUTAGE_MS = 60_000;
export const FULL_LENGTH_RUN_MS = 300_000;
const MIN_BROKER_OUTAGE_MS = 12_000;

export function defaultBrokerOutageMs(durationMs: number): number {
  const scaled = Math.round((FULL_BROKER_OUTAGE_MS * durationMs) / FULL_LENGTH_RUN_MS);
  return Math.min(FULL_BROKER_OUTAGE_MS, Math.max(MIN_BROKER_OUTAGE_MS, scaled));
}

/** The share of the load before the first fault and after the last one: a clean start and a clean end. */
const LEAD_IN = 0.1;
const LEAD_OUT = 0.15;

/**
 * Faults spread evenly over the middle of the run, in an order the seed shuffles, each at a
 * seeded offset inside its own slot. Targets are seeded too.
 */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const random = deriveRandom(options.seed, 'verify-faults');
  const kinds = [...options.faults];
  // Fisher-Yates with the seeded stream.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const start = options.durationMs * LEAD_IN;
  const slot = kinds.length === 0 ? 0 : (options.durationMs * (1 - LEAD_IN - LEAD_OUT)) / kinds.length;
  return kinds.map((kind, index) => ({
    kind,
    atMs: Math.round(start + slot * index + random.next() * slot * 0.3),
    target: targetOf(kind, options, random.nextInt(2 ** 16)),
    outageMs: outageOf(kind, options),
  }));
}

function targetOf(kind: FaultKind, options: ScheduleOptions, draw: number): number {
  if (kind === 'processor-kill') return draw % options.processorReplicas;
  if (kind === 'broker-kill' || kind === 'broker-pause') return draw % options.brokers;
  return 0;
}

function outageOf(kind: FaultKind, options: ScheduleOptions): number {
  switch (kind) {
    case 'broker-kill':
      return options.brokerOutageMs;
    case 'broker-pause':
      return Math.round(options.brokerOutageMs / 2);
    case 'processor-kill':
    case 'relay-kill':
    case 'source-kill':
      return options.roleRestartDelayMs;
    default:
      return 0;
  }
}

/** `all`, or a comma-separated list of kinds (repeats allowed: `processor-kill,processor-kill`). */
export function parseFaultList(raw: string): FaultKind[] | undefined {
  const text = raw.trim();
  if (text === '' || text === 'none') return [];
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  const kinds: FaultKind[] = [];
  for (const part of parts) {
    if (part === 'all') kinds.push(...FAULT_KINDS);
    else if ((FAULT_KINDS as readonly string[]).includes(part)) kinds.push(part as FaultKind);
    else return undefined;
  }
  return kinds;
}
