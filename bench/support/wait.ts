/** Polling helpers: the bench waits on conditions it can observe, never on fixed sleeps. */
import type { Sequelize } from 'sequelize';
import { sleep } from '../../core/retry.ts';
import { readOffsets } from '../../state/offset-store.ts';

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await sleep(options.intervalMs ?? 50);
  }
}

/** Records still between the group's stored offsets and the high watermarks (0 = caught up). */
export async function remainingLag(sequelize: Sequelize, group: string, topic: string, highWatermarks: Map<number, bigint>): Promise<bigint> {
  const stored = new Map((await readOffsets(sequelize, group, topic)).map((row) => [row.partition, row.nextOffset]));
  let lag = 0n;
  for (const [partition, high] of highWatermarks) {
    const next = stored.get(partition) ?? 0n;
    if (high > next) lag += high - next;
  }
  return lag;
}
