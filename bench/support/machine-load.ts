/** CPU use over a phase: this process's own, and the whole machine's (broker and PostgreSQL share it). */
import os from 'node:os';

export interface CpuUse {
  /** This process, in cores (1.0 = one core busy for the whole phase). */
  processCores: number;
  /** Every process on the machine, in cores. */
  machineCores: number;
  cores: number;
}

export function measureCpu(): () => CpuUse {
  const startedAt = performance.now();
  const process0 = process.cpuUsage();
  const machine0 = machineTimes();
  return () => {
    const wallUs = (performance.now() - startedAt) * 1000;
    const used = process.cpuUsage(process0);
    const machine1 = machineTimes();
    const busyMs = machine1.busy - machine0.busy;
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      processCores: round((used.user + used.system) / wallUs),
      machineCores: round((busyMs * 1000) / wallUs),
      cores: os.cpus().length,
    };
  };
}

function machineTimes(): { busy: number } {
  let busy = 0;
  for (const cpu of os.cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return { busy };
}
