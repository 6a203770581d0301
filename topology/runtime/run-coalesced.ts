import { Observable, type OperatorFunction } from 'rxjs';

export interface RunCoalescedOptions<T, R> {
  /** Runs one batch; `batches` is how many closed batches it is made of. */
  run: (items: T[], batches: number) => Promise<R>;
  /** Batches are merged only while the merged batch stays within this many items. */
  maxSize: number;
}

/**
 * Runs closed batches one at a time, in order, like `concatMap`, but every batch that closed
 * while one was running is merged with the others into one run (up to `maxSize` items).
 *
 * Why: a batch closes `commitIntervalMs` after its first record, and under load the batches that
 * close while one commits would otherwise each wait for a commit of their own. One commit per
 * batch made a task's throughput its commit rate: a steady live load that needed more commits
 * than the tasks could make fell further behind every second, where the same records in fewer,
 * larger commits kept up (bench/results/processor-order-flow-experiments-2026-12-02.md). Merging
 * keeps the latency of a quiet partition (a batch alone runs as soon as it closes) and lets a
 * busy one catch up in larger commits.
 */
export function runCoalesced<T, R>(options: RunCoalescedOptions<T, R>): OperatorFunction<T[], R> {
  const { run, maxSize } = options;
  return (source) =>
    new Observable<R>((subscriber) => {
      const waiting: T[][] = [];
      let running = false;
      let sourceDone = false;

      const next = (): void => {
        if (running || subscriber.closed) return;
        if (waiting.length === 0) {
          if (sourceDone) subscriber.complete();
          return;
        }
        const items = [...waiting.shift()!];
        let batches = 1;
        while (waiting.length > 0 && items.length + waiting[0]!.length <= maxSize) {
          items.push(...waiting.shift()!);
          batches++;
        }
        running = true;
        run(items, batches).then(
          (result) => {
            running = false;
            subscriber.next(result);
            next();
          },
          (error: unknown) => subscriber.error(error),
        );
      };

      const subscription = source.subscribe({
        next: (batch) => {
          waiting.push(batch);
          next();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          next();
        },
      });
      return () => {
        subscription.unsubscribe();
        waiting.length = 0;
      };
    });
}
