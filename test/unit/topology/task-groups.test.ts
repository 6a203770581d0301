/**
 * Task groups in the runtime (topology/runtime/task-group.ts): the tasks of one sub-topology and
 * partition number share their stores' committed cache and run one batch at a time, taking
 * turns batch by batch; a task that stops gives the turn up at once; a store is restored once
 * per group; and a group split over two processes is still correct, thanks to the commit's
 * compare-and-set.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { FencedError, StaleStateError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { tpKey } from '../../../kafka/port.ts';
import { type StateStoreSpec, TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import { StreamRuntime } from '../../../topology/runtime/stream-runtime.ts';
import { TaskGroups } from '../../../topology/runtime/task-group.ts';
import type { CommittableBatch, Committer, RuntimeEvent } from '../../../topology/runtime/types.ts';
import { MemoryStore } from '../../../topology/testing/memory-store.ts';
import { ControlledCommitter, FakeClaimer, FakeGroupConsumer, jsonCodec, memoryStoreSpec, record, useVirtualTime, waitFor } from './fixtures.ts';

interface Entry {
  account: string;
  label: string;
}

/** Appends the entry's label to its account's journal: the result depends on the order entries are applied in. */
const journal = (): Processor<Entry, never> => ({
  process(input, context) {
    const journals = context.getStateStore<string, string[]>('journal');
    journals.put(input.value.account, [...(journals.get(input.value.account) ?? []), input.value.label]);
  },
});

/** One sub-topology of two source topics whose processors share the `journal` store. */
function journalTopology(store: StateStoreSpec) {
  const prefetch = (entry: Entry) => ({ journal: [entry.account] });
  return new TopologyBuilder()
    .addStateStore(store)
    .addSource('credits-source', { topics: ['credits'], codec: jsonCodec })
    .addSource('debits-source', { topics: ['debits'], codec: jsonCodec })
    .addProcessor('credit', { supplier: journal, stores: ['journal'], prefetch }, 'credits-source')
    .addProcessor('debit', { supplier: journal, stores: ['journal'], prefetch }, 'debits-source')
    .build();
}

const credits0 = { topic: 'credits', partition: 0 };
const credits1 = { topic: 'credits', partition: 1 };
const debits0 = { topic: 'debits', partition: 0 };

const entries = (topic: string, partition: number, from: number, count: number) =>
  Array.from({ length: count }, (_, index) => record(topic, partition, from + index, 'acct', { account: 'acct', label: `${topic}:${from + index}` }));

/** The journal a serial application of the committed batches gives: batch after batch, each in offset order. */
function serialApplication(batches: readonly CommittableBatch[]): string[] {
  return batches.flatMap((batch) => Array.from({ length: batch.records }, (_, index) => `${batch.topic}:${batch.firstOffset + BigInt(index)}`));
}

/**
 * The database in memory, as the transactional sink checks a commit: from the offset it expects
 * (else FencedError), and only where the store still holds what the batch read (else
 * StaleStateError). Each commit first waits a little, so another batch has the time to run
 * meanwhile, as it would while a real commit travels to PostgreSQL and back.
 */
class CompareAndSetCommitter implements Committer {
  readonly committed: CommittableBatch[] = [];
  staleRejections = 0;
  readonly #store: MemoryStore;
  readonly #offsets = new Map<string, bigint>();

  constructor(store: MemoryStore) {
    this.#store = store;
  }

  async commit(batch: CommittableBatch): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const stored = this.#offsets.get(tpKey(batch)) ?? 0n;
    if (stored !== batch.expectedNextOffset) throw new FencedError(batch.topic, batch.partition, `expected offset ${batch.expectedNextOffset}, store holds ${stored}`);
    let write: () => void;
    try {
      write = this.#store.prepare(batch.storeChanges.get(this.#store.name) ?? [], { guard: true, partition: batch.partition });
    } catch (error) {
      if (error instanceof StaleStateError) this.staleRejections++;
      throw error;
    }
    write();
    this.#offsets.set(tpKey(batch), batch.nextOffset);
    this.committed.push(batch);
  }
}

const running: Array<{ runtime: StreamRuntime; committer: Committer }> = [];

async function startRuntime(options: { store: StateStoreSpec; committer: Committer; claimer?: FakeClaimer }) {
  const consumer = new FakeGroupConsumer();
  const events: RuntimeEvent[] = [];
  const runtime = new StreamRuntime({
    topology: journalTopology(options.store),
    consumer,
    claimer: options.claimer ?? new FakeClaimer(),
    committer: options.committer,
    config: { batchMaxRecords: 3, commitIntervalMs: 60_000, maxInflightPerPartition: 1_000, maxInflightTotal: 10_000 },
    logger: silentLogger,
    retry: { initialDelayMs: 1, maxDelayMs: 2 },
    commitToKafka: false,
  });
  runtime.events$.subscribe((event) => events.push(event));
  await runtime.start();
  running.push({ runtime, committer: options.committer });
  return { runtime, consumer, events };
}

afterEach(async () => {
  jest.useRealTimers();
  for (const { runtime, committer } of running.splice(0)) {
    if (committer instanceof ControlledCommitter) {
      committer.autoRelease = true;
      for (const call of committer.pending()) call.release();
    }
    await runtime.stop({ timeoutMs: 1_000 });
  }
});

const reruns = (events: RuntimeEvent[]) => events.filter((event) => event.type === 'retry' && event.operation === 'reload');

describe('task groups', () => {
  it('runs two topics of one sub-topology and partition on one cache, one batch at a time: no stale state between them, and the result of a serial application', async () => {
    const store = new MemoryStore<string, string[]>({ name: 'journal' });
    const committer = new CompareAndSetCommitter(store);
    const { consumer, events, runtime } = await startRuntime({ store, committer });
    await consumer.assign([credits0, debits0]);
    for (let from = 0; from < 12; from += 3) {
      consumer.deliver('credits', 0, entries('credits', 0, from, 3));
      consumer.deliver('debits', 0, entries('debits', 0, from, 3));
    }
    await waitFor(() => committer.committed.length === 8, 'eight commits');

    expect(committer.staleRejections).toBe(0);
    expect(reruns(events)).toEqual([]);
    expect(committer.committed.map((batch) => batch.topic)).toEqual(['credits', 'debits', 'credits', 'debits', 'credits', 'debits', 'credits', 'debits']);
    expect(store.contents.get('acct')).toHaveLength(24);
    expect(store.contents.get('acct')).toEqual(serialApplication(committer.committed));
    // Offsets, commits and stats stay per topic-partition.
    const offsets = runtime.stats().partitions.map(({ topic, partition, committedOffset, batchesCommitted }) => ({ topic, partition, committedOffset, batchesCommitted }));
    expect(offsets).toEqual(
      expect.arrayContaining([
        { topic: 'credits', partition: 0, committedOffset: 12n, batchesCommitted: 4 },
        { topic: 'debits', partition: 0, committedOffset: 12n, batchesCommitted: 4 },
      ]),
    );
  });

  it('takes turns batch by batch: a task with a long backlog does not starve the other', async () => {
    const store = new MemoryStore<string, string[]>({ name: 'journal' });
    const committer = new CompareAndSetCommitter(store);
    const { consumer } = await startRuntime({ store, committer });
    await consumer.assign([credits0, debits0]);
    consumer.deliver('credits', 0, entries('credits', 0, 0, 12)); // four batches queued at once
    consumer.deliver('debits', 0, entries('debits', 0, 0, 6)); // two
    await waitFor(() => committer.committed.length === 6, 'six commits');
    expect(committer.committed.map((batch) => batch.topic)).toEqual(['credits', 'debits', 'credits', 'debits', 'credits', 'credits']);
  });

  it('passes the turn on when a task stops mid-batch: the other task goes on while the stopped one\'s commit is still in flight', async () => {
    const elapse = useVirtualTime();
    const committer = new ControlledCommitter();
    const { consumer, runtime } = await startRuntime({ store: memoryStoreSpec('journal'), committer });
    await consumer.assign([credits0, debits0]);
    consumer.deliver('credits', 0, entries('credits', 0, 0, 3));
    await elapse(0);
    expect(committer.pending().map((call) => call.batch.topic)).toEqual(['credits']);
    consumer.deliver('debits', 0, entries('debits', 0, 0, 3));
    await elapse(1_000);
    // The credits batch holds the turn until it commits: the debits batch waits.
    expect(committer.calls.map((call) => call.batch.topic)).toEqual(['credits']);

    consumer.revoke([credits0]);
    await elapse(0);
    expect(committer.pending().map((call) => call.batch.topic)).toEqual(['credits', 'debits']);
    committer.pending()[1]!.release();
    await elapse(0);
    expect(committer.committed().map((batch) => batch.topic)).toEqual(['debits']);
    expect(runtime.stats().partitions).toEqual([expect.objectContaining({ topic: 'debits', partition: 0, committedOffset: 3n })]);
  });

  it('runs a lone task of a group as before', async () => {
    const store = new MemoryStore<string, string[]>({ name: 'journal' });
    const committer = new CompareAndSetCommitter(store);
    const { consumer, events } = await startRuntime({ store, committer });
    await consumer.assign([debits0]);
    consumer.deliver('debits', 0, entries('debits', 0, 0, 6));
    await waitFor(() => committer.committed.length === 2, 'two commits');
    expect(reruns(events)).toEqual([]);
    expect(store.contents.get('acct')).toEqual(['debits:0', 'debits:1', 'debits:2', 'debits:3', 'debits:4', 'debits:5']);
  });

  it('stays correct when the group is split over two processes: their conflicts are caught by the compare-and-set and run again', async () => {
    const store = new MemoryStore<string, string[]>({ name: 'journal' });
    const committer = new CompareAndSetCommitter(store);
    const claimer = new FakeClaimer();
    const first = await startRuntime({ store, committer, claimer });
    const second = await startRuntime({ store, committer, claimer });
    await first.consumer.assign([credits0]);
    await second.consumer.assign([debits0]);
    for (let from = 0; from < 12; from += 3) {
      first.consumer.deliver('credits', 0, entries('credits', 0, from, 3));
      second.consumer.deliver('debits', 0, entries('debits', 0, from, 3));
    }
    await waitFor(() => committer.committed.length === 8, 'eight commits');

    // Each process caches on its own: what the other commits reaches it only through a stale commit.
    expect(committer.staleRejections).toBeGreaterThan(0);
    expect(reruns([...first.events, ...second.events])).toHaveLength(committer.staleRejections);
    expect(store.contents.get('acct')).toHaveLength(24);
    expect(store.contents.get('acct')).toEqual(serialApplication(committer.committed));
  });

  it('restores a store once per group, with its first task, and again for a group formed anew', async () => {
    const backend = new MemoryStore<string, string[]>({ name: 'journal' });
    backend.write('acct', ['opening']);
    const restored: number[] = [];
    const store: StateStoreSpec<string, string[]> = {
      name: 'journal',
      load: (keys) => backend.load(keys),
      restore: (tp) => {
        restored.push(tp.partition);
        return backend.restore!(tp);
      },
    };
    const committer = new CompareAndSetCommitter(backend);
    const { consumer, events } = await startRuntime({ store, committer });
    await consumer.assign([credits0, debits0, credits1]);
    expect(restored.sort()).toEqual([0, 1]);

    // The debits task sees the value its group restored (the commit checks it read 'opening').
    consumer.deliver('debits', 0, entries('debits', 0, 0, 3));
    await waitFor(() => committer.committed.length === 1, 'a commit');
    expect(backend.contents.get('acct')).toEqual(['opening', 'debits:0', 'debits:1', 'debits:2']);

    consumer.revoke([credits0, debits0]);
    await waitFor(() => events.filter((event) => event.type === 'partition-revoked').length === 2, 'both revoked');
    await consumer.assign([credits0]);
    expect(restored.sort()).toEqual([0, 0, 1]);
  });
});

describe('TaskGroups', () => {
  it('shares a cache between the topics of one sub-topology with the same partition number only', () => {
    const groups = new TaskGroups(journalTopology(memoryStoreSpec('journal')));
    const credits = groups.join('credits', 0);
    expect(groups.join('debits', 0).cache('journal')).toBe(credits.cache('journal'));
    expect(groups.join('credits', 1).cache('journal')).not.toBe(credits.cache('journal'));
  });

  it('hands a restore that failed on to a member still waiting for it, and restores no more once one succeeded', async () => {
    const groups = new TaskGroups(journalTopology(memoryStoreSpec('journal')));
    const first = groups.join('credits', 0);
    const second = groups.join('debits', 0);
    let failFirst!: (error: Error) => void;
    const firstRestore = first.restore('journal', () => new Promise((_, reject) => (failFirst = reject)));
    const secondRestore = second.restore('journal', async () => [['acct', ['restored']]]);
    failFirst(new Error('its task stopped'));
    await expect(firstRestore).rejects.toThrow('its task stopped');
    await expect(secondRestore).resolves.toBe(true);
    expect(first.cache('journal').get('acct')).toEqual(['restored']);
    await expect(groups.join('credits', 0).restore('journal', async () => [])).resolves.toBe(false);
  });
});
