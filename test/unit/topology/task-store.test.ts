import { describe, expect, it } from '@jest/globals';
import { TaskStore } from '../../../topology/runtime/task-store.ts';

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
    const store = new TaskStore<string, string>('decisions', false);
    for (let batch = 0; batch < 100; batch++) {
      const key = `order-${batch}`;
      store.put(key, 'confirmed');
      store.acceptRecord();
      expect(store.batchChanges()).toEqual([[key, 'confirmed']]);
      store.commitBatch();
    }
    expect(store.cachedKeys).toBe(0);
    expect(store.missing(['order-5'])).toEqual(['order-5']);
  });
});
