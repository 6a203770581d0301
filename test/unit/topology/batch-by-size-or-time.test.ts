import { describe, expect, it } from '@jest/globals';
import { TestScheduler } from 'rxjs/testing';
import { batchBySizeOrTime } from '../../../topology/runtime/batch-by-size-or-time.ts';

function testScheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('batchBySizeOrTime', () => {
  it('closes a batch when it reaches the size limit', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d-e-|');
      const batches = source.pipe(batchBySizeOrTime({ maxSize: 2, maxTimeMs: 1_000, scheduler }));
      expectObservable(batches).toBe('--x---y---(z|)', { x: ['a', 'b'], y: ['c', 'd'], z: ['e'] });
    });
  });

  it('closes a batch maxTimeMs after its first item, not on a fixed window', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // a at 0, b at 3 -> closed at 5; c at 7 opens a new batch closed at 12.
      const source = cold('a--b---c------|');
      const batches = source.pipe(batchBySizeOrTime({ maxSize: 10, maxTimeMs: 5, scheduler }));
      expectObservable(batches).toBe('-----x------y-|', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('never emits an empty batch and flushes the rest on completion', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a-----------b--|');
      const batches = source.pipe(batchBySizeOrTime({ maxSize: 10, maxTimeMs: 3, scheduler }));
      expectObservable(batches).toBe('---x-----------(y|)', { x: ['a'], y: ['b'] });
    });
  });

  it('closes the open batch when flush$ emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, hot, expectObservable }) => {
      const source = cold('a-b-------|');
      const flush$ = hot('----f--f');
      const batches = source.pipe(batchBySizeOrTime({ maxSize: 10, maxTimeMs: 100, scheduler, flush$ }));
      expectObservable(batches).toBe('----x-----|', { x: ['a', 'b'] });
    });
  });
});
