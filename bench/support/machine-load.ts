/**
 * CPU use over a phase, split by who used it: this process, the PostgreSQL backends serving
 * the bench's database, the rest of PostgreSQL, the Kafka broker, and everything else (on a
 * shared machine, other people's work). Read from /proc, so Linux only; elsewhere only this
 * process's share is known.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuUse {
  /** Cores busy on average over the phase (1.0 = one core for the whole phase). */
  processCores: number;
  machineCores: number;
  /** By group: bench (this process), postgres-bench, postgres-other, kafka, other. */
  byGroup: Record<string, number>;
  cores: number;
  /** The phase's length: cores × wallMs is the CPU time used. */
  wallMs: number;
}

/** Jiffies per second on every Linux the project targets (USER_HZ). */
const TICKS_PER_SECOND = 100;

export function measureCpu(benchDatabase?: string): () => CpuUse {
  const startedAt = performance.now();
  const process0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  const procs0 = processTicks();
  return () => {
    const wallMs = performance.now() - startedAt;
    const used = process.cpuUsage(process0);
    const procs1 = processTicks();
    const byGroup: Record<string, number> = {};
    for (const [pid, now] of procs1) {
      const before = procs0.get(pid)?.ticks ?? 0;
      const group = groupOf(pid, now.cmdline, benchDatabase);
      byGroup[group] = (byGroup[group] ?? 0) + ((now.ticks - before) * 1000) / TICKS_PER_SECOND;
    }
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      processCores: round((used.user + used.system) / 1000 / wallMs),
      machineCores: round((machineBusyMs() - machine0) / wallMs),
      byGroup: Object.fromEntries(Object.entries(byGroup).map(([group, ms]) => [group, round(ms / wallMs)])),
      cores: os.cpus().length,
      wallMs: Math.round(wallMs),
    };
  };
}

function groupOf(pid: number, cmdline: string, benchDatabase: string | undefined): string {
  if (pid === process.pid) return 'bench';
  if (cmdline.startsWith('postgres:') || cmdline.includes('/bin/postgres')) {
    return benchDatabase && cmdline.includes(` ${benchDatabase} `) ? 'postgres-bench' : 'postgres-other';
  }
  if (cmdline.includes('kafka.Kafka')) return 'kafka';
  return 'other';
}

function processTicks(): Map<number, { ticks: number; cmdline: string }> {
  const result = new Map<number, { ticks: number; cmdline: string }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return result;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      result.set(Number(entry), { ticks, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return result;
}

function machineBusyMs(): number {
  let busy = 0;
  for (const cpu of os.cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return busy;
}
