import { describe, expect, it } from '@jest/globals';
import { VirtualTimeScheduler, lastValueFrom, toArray } from 'rxjs';
import { FencedError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { PartitionTask } from '../../../topology/runtime/partition-task.ts';
import type { RuntimeEvent } from '../../../topology/runtime/types.ts';
import { ControlledCommitter, type Word, counterProcessor, jsonCodec, memoryStoreSpec, record } from './fixtures.ts';

function prefetchingTopology(store: ReturnType<typeof memoryStoreSpec>) {
  return new TopologyBuilder()
    .addStateStore(store)
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('counter', { supplier: counterProcessor, stores: ['counts'], prefetch: (value: Word) => ({ counts: [value.text] }) }, 'words-source')
    .addSink('counts-sink', { topic: 'counts', codec: jsonCodec }, 'counter')
    .build();
}

async function taskWith(options: { store: ReturnType<typeof memoryStoreSpec>; committer: ControlledCommitter; events?: RuntimeEvent[] }) {
  return PartitionTask.create({
    topology: prefetchingTopology(options.store),
    claim: { topic: 'words', partition: 0, nextOffset: 0n, epoch: 7 },
    committer: options.committer,
    batchMaxRecords: 3,
    commitIntervalMs: 1_000,
    scheduler: new VirtualTimeScheduler(),
    logger: silentLogger,
    onEvent: (event) => options.events?.push(event),
  });
}

const word = (offset: number, text: string) => record('words', 0, offset, text, { text });

describe('PartitionTask', () => {
  it('prefetches only missing keys, with one load per store per batch, before processing', async () => {
    const store = memoryStoreSpec('counts', new Map([['a', 5]]));
    const committer = new ControlledCommitter({ autoRelease: true });
    const task = await taskWith({ store, committer });
    const committed = lastValueFrom(task.committed$.pipe(toArray()));

    task.push([word(0, 'a'), word(1, 'b'), word(2, 'a')]);
    await task.whenIdle();
    task.push([word(3, 'a'), word(4, 'c'), word(5, 'b')]);
    await task.drain();

    expect(store.loads).toEqual([['a', 'b'], ['c']]);
    const [first, second] = committer.committed();
    expect(first!.storeChanges.get('counts')).toEqual([
      ['a', 7],
      ['b', 1],
    ]);
    expect(second!.storeChanges.get('counts')).toEqual([
      ['a', 8],
      ['c', 1],
      ['b', 2],
    ]);
    expect(second).toMatchObject({ epoch: 7, firstOffset: 3n, lastOffset: 5n, nextOffset: 6n, expectedNextOffset: 3n, records: 3 });
    expect((await committed).map((event) => event.nextOffset)).toEqual([3n, 6n]);
  });

  it('ignores records delivered again below its position', async () => {
    const store = memoryStoreSpec('counts');
    const committer = new ControlledCommitter({ autoRelease: true });
    const task = await taskWith({ store, committer });
    task.committed$.subscribe();

    expect(task.push([word(0, 'a'), word(1, 'a')])).toBe(2);
    expect(task.push([word(0, 'a'), word(1, 'a'), word(2, 'a')])).toBe(1);
    await task.drain();
    expect(committer.committed().map((batch) => [batch.firstOffset, batch.lastOffset])).toEqual([[0n, 2n]]);
    expect(task.stats(false).duplicatesIgnored).toBe(2);
  });

  it('stops and drops its uncommitted state when the commit is fenced', async () => {
    const store = memoryStoreSpec('counts');
    const committer = new ControlledCommitter({ autoRelease: true });
    committer.failures.push(new FencedError('words', 0, 'epoch 8 holds the partition'));
    const events: RuntimeEvent[] = [];
    const task = await taskWith({ store, committer, events });
    const completed = lastValueFrom(task.committed$.pipe(toArray()));

    task.push([word(0, 'a'), word(1, 'b'), word(2, 'c'), word(3, 'd')]);
    expect(await completed).toEqual([]);
    expect(task.state).toBe('fenced');
    expect(events.filter((event) => event.type === 'fenced')).toEqual([
      expect.objectContaining({ topic: 'words', partition: 0, offset: 0n }),
    ]);
    expect(task.push([word(4, 'e')])).toBe(0);
    expect(committer.calls).toHaveLength(0);
  });
});
