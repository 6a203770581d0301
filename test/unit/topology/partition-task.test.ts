import { describe, expect, it } from '@jest/globals';
import { lastValueFrom, toArray, VirtualTimeScheduler } from 'rxjs';
import { FencedError, ServiceUnavailableError, StaleStateError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { PartitionTask } from '../../../topology/runtime/partition-task.ts';
import type { RuntimeEvent } from '../../../topology/runtime/types.ts';
import { ControlledCommitter, counterProcessor, jsonCodec, memoryStoreSpec, record, type Word } from './fixtures.ts';

function prefetchingTopology(store: ReturnType<typeof memoryStoreSpec>) {
  return new TopologyBuilder()
    .addStateStore(store)
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('counter', { supplier: counterProcessor, stores: ['counts'], prefetch: (value: Word) => ({ counts: [value.text] }) }, 'words-source')
    .addSink('counts-sink', { topic: 'counts', codec: jsonCodec }, 'counter')
    .build();
}

async function taskWith(options: { store: ReturnType<typeof memoryStoreSpec>; committer: ControlledCommitter; events?: RuntimeEvent[]; retry?: { initialDelayMs: number } }) {
  return PartitionTask.create({
    topology: prefetchingTopology(options.store),
    claim: { topic: 'words', partition: 0, nextOffset: 0n, epoch: 7 },
    committer: options.committer,
    batchMaxRecords: 3,
    commitIntervalMs: 1_000,
    scheduler: new VirtualTimeScheduler(),
    logger: silentLogger,
    onEvent: (event) => options.events?.push(event),
    ...(options.retry ? { retry: options.retry } : {}),
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
    // Each change carries the committed value it was computed from: the backend writes it only where that still holds.
    expect(first!.storeChanges.get('counts')).toEqual([
      { key: 'a', before: 5, after: 7 },
      { key: 'b', before: undefined, after: 1 },
    ]);
    expect(second!.storeChanges.get('counts')).toEqual([
      { key: 'a', before: 7, after: 8 },
      { key: 'c', before: undefined, after: 1 },
      { key: 'b', before: 1, after: 2 },
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

  it('loads a key found absent again at the next batch, so a key added to the backend meanwhile is seen', async () => {
    const store = memoryStoreSpec('counts');
    const committer = new ControlledCommitter({ autoRelease: true });
    const task = await taskWith({ store, committer });
    task.committed$.subscribe();

    task.push([word(0, 'a'), word(1, 'b'), word(2, 'c')]);
    await task.whenIdle();
    store.data.set('z', 40);
    task.push([word(3, 'z'), word(4, 'a'), word(5, 'a')]);
    await task.drain();
    expect(store.loads).toEqual([['a', 'b', 'c'], ['z']]);
    expect(committer.committed()[1]!.storeChanges.get('counts')).toEqual([
      { key: 'z', before: 40, after: 41 },
      { key: 'a', before: 1, after: 3 },
    ]);
  });

  it('on stale state, evicts the stale keys, reloads them and runs the batch again from the fresh values', async () => {
    const store = memoryStoreSpec('counts', new Map([['a', 5]]));
    const committer = new ControlledCommitter({ autoRelease: true });
    const events: RuntimeEvent[] = [];
    const task = await taskWith({ store, committer, events, retry: { initialDelayMs: 1 } });
    task.committed$.subscribe();

    task.push([word(0, 'a'), word(1, 'b'), word(2, 'a')]);
    await task.whenIdle();
    // An operator changes 'a' in the backend: the next commit that writes it is refused as stale.
    store.data.set('a', 100);
    committer.failures.push(new StaleStateError('counts', ['a'], 'counts of a changed in the database'));
    task.push([word(3, 'a'), word(4, 'b'), word(5, 'c')]);
    await task.drain();

    expect(task.state).toBe('draining');
    expect(store.loads).toEqual([['a', 'b'], ['c'], ['a', 'c']]);
    const second = committer.committed()[1]!;
    expect(second).toMatchObject({ firstOffset: 3n, nextOffset: 6n, expectedNextOffset: 3n });
    expect(second.storeChanges.get('counts')).toEqual([
      { key: 'a', before: 100, after: 101 },
      { key: 'b', before: 1, after: 2 },
      { key: 'c', before: undefined, after: 1 },
    ]);
    expect(events.filter((event) => event.type === 'retry')).toEqual([expect.objectContaining({ operation: 'reload', attempt: 1, offset: 3n })]);
    expect(events.some((event) => event.type === 'partition-failed' || event.type === 'fenced')).toBe(false);
  });

  it('on stale state, loads the stale keys again even when no record prefetches them', async () => {
    // The counter writes keys it never prefetches: without a restore the task takes them for absent.
    const store = memoryStoreSpec('counts', new Map([['a', 5]]));
    const topology = new TopologyBuilder()
      .addStateStore(store)
      .addSource('words-source', { topics: ['words'], codec: jsonCodec })
      .addProcessor('counter', { supplier: counterProcessor, stores: ['counts'] }, 'words-source')
      .build();
    const committer = new ControlledCommitter({ autoRelease: true });
    committer.failures.push(new StaleStateError('counts', ['a'], 'counts of a is in the database'));
    const task = await PartitionTask.create({
      topology,
      claim: { topic: 'words', partition: 0, nextOffset: 0n, epoch: 1 },
      committer,
      batchMaxRecords: 1,
      commitIntervalMs: 1_000,
      scheduler: new VirtualTimeScheduler(),
      logger: silentLogger,
      retry: { initialDelayMs: 1 },
    });
    task.committed$.subscribe();
    task.push([word(0, 'a')]);
    await task.drain();
    expect(store.loads).toEqual([['a']]);
    expect(committer.committed()[0]!.storeChanges.get('counts')).toEqual([{ key: 'a', before: 5, after: 6 }]);
  });

  it('retries a transient commit failure as is: it never splits the batch nor dead-letters a record', async () => {
    const store = memoryStoreSpec('counts');
    const committer = new ControlledCommitter({ autoRelease: true });
    committer.failures.push(new ServiceUnavailableError('PostgreSQL', 'connection reset'), new ServiceUnavailableError('PostgreSQL', 'connection reset'));
    const task = await taskWith({ store, committer, retry: { initialDelayMs: 1 } });
    task.committed$.subscribe();
    task.push([word(0, 'a'), word(1, 'b'), word(2, 'c')]);
    await task.drain();
    expect(committer.committed().map((batch) => [batch.firstOffset, batch.lastOffset, batch.deadLetters.length])).toEqual([[0n, 2n, 0]]);
  });

  it('dead-letters the one record a non-retriable load cannot take, and processes the rest of its batch', async () => {
    const store = memoryStoreSpec('counts');
    const load = store.load;
    // Like a key the SQL cannot cast: any load asking for it fails.
    store.load = async (keys: unknown[]) => {
      if (keys.includes('huge')) throw Object.assign(new Error('value "huge" is out of range for type integer'), { code: '22003' });
      return load(keys);
    };
    const committer = new ControlledCommitter({ autoRelease: true });
    const task = await taskWith({ store, committer });
    task.committed$.subscribe();
    task.push([word(0, 'a'), word(1, 'huge'), word(2, 'c')]);
    await task.drain();
    const batches = committer.committed();
    expect(batches.flatMap((batch) => batch.deadLetters.map((letter) => [letter.offset, letter.node]))).toEqual([[1n, 'counter']]);
    expect(batches.flatMap((batch) => batch.storeChanges.get('counts') ?? [])).toEqual([
      { key: 'a', before: undefined, after: 1 },
      { key: 'c', before: undefined, after: 1 },
    ]);
    expect(task.stats(false)).toMatchObject({ processed: 3, deadLetters: 1, committedOffset: 3n, inflight: 0 });
  });
});
