import { describe, expect, it } from '@jest/globals';
import { StoreCache, TaskStore } from '../../../topology/runtime/task-store.ts';

describe('TaskStore', () => {
  it('keeps committed values cached across batches by default, but not absence', () => {
    const store = new TaskStore<string, number>('counts');
    // 'b' was asked for and not found: it must be asked for again, it may exist by the next batch.
    store.cacheLoaded([['a', 1]]);
    store.put('a', 2);
    store.acceptRecord();
    store.commitBatch();
    expect(store.get('a')).toBe(2);
    expect(store.missing(['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  it('evicts stale keys so the next prefetch loads them again', () => {
    const store = new TaskStore<string, number>('counts');
    store.cacheLoaded([
      ['a', 1],
      ['b', 2],
    ]);
    store.evict(['a']);
    expect(store.get('a')).toBeUndefined();
    expect(store.missing(['a', 'b'])).toEqual(['a']);
  });

  it('forgets everything at commit when it does not cache across batches, so memory stays flat', () => {
    const store = new TaskStore<string, string>('decisions', new StoreCache(false));
    for (let batch = 0; batch < 100; batch++) {
      const key = `order-${batch}`;
      store.put(key, 'confirmed');
      store.acceptRecord();
      expect(store.batchChanges()).toEqual([{ key, before: undefined, after: 'confirmed' }]);
      store.commitBatch();
    }
    expect(store.cachedKeys).toBe(0);
    expect(store.missing(['order-5'])).toEqual(['order-5']);
  });

  it('stages deletions like writes: gone for the batch at once, from the cache only once committed', () => {
    const store = new TaskStore<string, number>('counts');
    store.cacheLoaded([
      ['a', 1],
      ['b', 2],
    ]);
    store.delete('a');
    expect(store.get('a')).toBeUndefined();
    store.acceptRecord();
    expect(store.getAll(['a', 'b', 'c'])).toEqual(new Map([['b', 2]]));
    expect(store.batchChanges()).toEqual([{ key: 'a', before: 1, after: undefined }]);
    store.commitBatch();
    expect(store.missing(['a', 'b'])).toEqual(['a']);
  });

  it('gives each changed key the committed value it was computed from, however often the batch wrote it', () => {
    const store = new TaskStore<string, number>('counts');
    store.cacheLoaded([['a', 1]]);
    for (const value of [2, 3]) {
      store.put('a', value);
      store.acceptRecord();
    }
    store.put('new', 1);
    store.acceptRecord();
    store.put('gone', 1);
    store.delete('gone');
    store.acceptRecord();
    // 'gone' was absent and is absent again: nothing to write, nothing to check.
    expect(store.batchChanges()).toEqual([
      { key: 'a', before: 1, after: 3 },
      { key: 'new', before: undefined, after: 1 },
    ]);
  });

  it('drops a rejected record\'s deletion with its writes', () => {
    const store = new TaskStore<string, number>('counts');
    store.cacheLoaded([['a', 1]]);
    store.delete('a');
    store.rejectRecord();
    expect(store.get('a')).toBe(1);
    expect(store.batchChanges()).toEqual([]);
  });

  it('refuses to put undefined: a deletion is a delete', () => {
    const store = new TaskStore<string, number | undefined>('counts');
    expect(() => store.put('a', undefined)).toThrow(/use delete/);
  });
});
