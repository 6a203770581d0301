import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface BatchBySizeOrTimeOptions {
  maxSize: number;
  /** How long a batch stays open after its FIRST item (not a fixed window, unlike `bufferTime`). */
  maxTimeMs: number;
  scheduler: SchedulerLike;
  /** Each emission closes the open batch at once (used for shutdown and tests). */
  flush$?: Observable<unknown>;
}

/**
 * Groups items into batches closed by size, by time since the batch's first item, by
 * `flush$`, or by completion of the source; empty batches are never emitted. Time comes
 * from `scheduler`, so tests drive it with virtual time.
 *
 * @example
 * records$.pipe(batchBySizeOrTime({ maxSize: 500, maxTimeMs: 100, scheduler: asyncScheduler }))
 */
export function batchBySizeOrTime<T>(options: BatchBySizeOrTimeOptions): OperatorFunction<T, T[]> {
  const { maxSize, maxTimeMs, scheduler, flush$ } = options;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let open: T[] = [];
      let timer: Subscription | undefined;

      const close = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (open.length === 0) return;
        const batch = open;
        open = [];
        subscriber.next(batch);
      };

      const flushSubscription = flush$?.subscribe({ next: close, error: (error) => subscriber.error(error) });
      const sourceSubscription = source.subscribe({
        next: (item) => {
          open.push(item);
          if (open.length === 1) timer = scheduler.schedule(close, maxTimeMs);
          if (open.length >= maxSize) close();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          close();
          subscriber.complete();
        },
      });

      return () => {
        timer?.unsubscribe();
        flushSubscription?.unsubscribe();
        sourceSubscription.unsubscribe();
        open = [];
      };
    });
}
