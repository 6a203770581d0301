/**
 * Turn-taking among the members of a task group (task-group.ts): one member holds the turn at
 * a time, and the others wait for it in the order they asked. A member asks once per batch and
 * gives the turn back when the batch ends, so a member with a long backlog, asking again at once
 * for its next batch, queues behind whoever was already waiting: members alternate batch by
 * batch and none starves. Pure bookkeeping, no timers.
 */

/** Why a wait for the turn ended without it: the member left, or its signal aborted. */
export class TurnAbandonedError extends Error {
  constructor(why: string) {
    super(`wait for the turn abandoned: ${why}`);
    this.name = 'TurnAbandonedError';
  }
}

interface Waiter<Member> {
  member: Member;
  grant(): void;
  refuse(error: TurnAbandonedError): void;
}

export class Turns<Member> {
  #holder: Member | undefined;
  readonly #waiting: Array<Waiter<Member>> = [];

  /** The member holding the turn now. */
  get holder(): Member | undefined {
    return this.#holder;
  }

  /** How many members wait for the turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves once `member` holds the turn; rejects with TurnAbandonedError when `signal` aborts
   * first (the wait is dropped, the queue moves on without it). A member asks only while it does
   * not hold the turn.
   */
  take(member: Member, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new TurnAbandonedError('the member stopped'));
    if (this.#holder === member) return Promise.reject(new TurnAbandonedError('the member holds the turn already'));
    if (this.#holder === undefined && this.#waiting.length === 0) {
      this.#holder = member;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#drop(waiter);
        reject(new TurnAbandonedError('the member stopped'));
      };
      const waiter: Waiter<Member> = {
        member,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        refuse: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives the turn to the next member waiting, if `member` holds it (otherwise does nothing: giving twice is harmless). */
  give(member: Member): void {
    if (this.#holder !== member) return;
    const next = this.#waiting.shift();
    this.#holder = next?.member;
    next?.grant();
  }

  /** The member is gone: its turn passes on and its waits end. */
  leave(member: Member): void {
    for (const waiter of this.#waiting.filter((each) => each.member === member)) {
      this.#drop(waiter);
      waiter.refuse(new TurnAbandonedError('the member left its group'));
    }
    this.give(member);
  }

  #drop(waiter: Waiter<Member>): void {
    const index = this.#waiting.indexOf(waiter);
    if (index >= 0) this.#waiting.splice(index, 1);
  }
}
