/** Polling helpers: the bench waits on conditions it can observe, never on fixed sleeps. */

import type { Sequelize } from 'sequelize';
import { partitionLag } from '../../core/partitions.ts';
import { readOffsets } from '../../state/offset-store.ts';

export { waitFor } from '../../core/wait.ts';


/** Records still between the group's stored offsets and the high watermarks (0 = caught up). */
export async function remainingLag(sequelize: Sequelize, group: string, topic: string, highWatermarks: Map<number, bigint>): Promise<bigint> {
  const stored = new Map((await readOffsets(sequelize, group, topic)).map((row) => [row.partition, row.nextOffset]));
  let lag = 0n;
  for (const [partition, high] of highWatermarks) {
    lag += partitionLag(high, stored.get(partition) ?? 0n);
  }
  return lag;
}
