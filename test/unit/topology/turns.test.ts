import { describe, expect, it } from '@jest/globals';
import { TurnAbandonedError, Turns } from '../../../topology/runtime/turns.ts';

/** Takes the turn for `member` and records when it was granted. */
function ask(turns: Turns<string>, member: string, granted: string[], signal = new AbortController().signal): Promise<void> {
  return turns.take(member, signal).then(() => void granted.push(member));
}

/** Lets granted turns' callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Turns', () => {
  it('grants the turn to one member at a time, in the order they asked', async () => {
    const turns = new Turns<string>();
    const granted: string[] = [];
    void ask(turns, 'a', granted);
    void ask(turns, 'b', granted);
    void ask(turns, 'c', granted);
    await settle();
    expect(granted).toEqual(['a']);
    turns.give('a');
    // a asks again at once (its next batch): it queues behind c.
    void ask(turns, 'a', granted);
    await settle();
    expect(granted).toEqual(['a', 'b']);
    turns.give('b');
    await settle();
    turns.give('c');
    await settle();
    expect(granted).toEqual(['a', 'b', 'c', 'a']);
    expect(turns.holder).toBe('a');
  });

  it('ignores a give by a member that does not hold the turn', async () => {
    const turns = new Turns<string>();
    const granted: string[] = [];
    void ask(turns, 'a', granted);
    void ask(turns, 'b', granted);
    await settle();
    turns.give('b');
    await settle();
    expect(turns.holder).toBe('a');
    expect(granted).toEqual(['a']);
  });

  it('drops the wait of a member whose signal aborts, and the queue moves on without it', async () => {
    const turns = new Turns<string>();
    const granted: string[] = [];
    const stopB = new AbortController();
    void ask(turns, 'a', granted);
    const b = ask(turns, 'b', granted, stopB.signal);
    void ask(turns, 'c', granted);
    stopB.abort();
    await expect(b).rejects.toBeInstanceOf(TurnAbandonedError);
    expect(turns.waiting).toBe(1);
    turns.give('a');
    await settle();
    expect(granted).toEqual(['a', 'c']);
  });

  it('passes the turn on when its holder leaves, and ends the waits of a member that leaves', async () => {
    const turns = new Turns<string>();
    const granted: string[] = [];
    void ask(turns, 'a', granted);
    const b = ask(turns, 'b', granted);
    void ask(turns, 'c', granted);
    turns.leave('b');
    await expect(b).rejects.toThrow(/left its group/);
    turns.leave('a');
    await settle();
    expect(granted).toEqual(['a', 'c']);
    expect(turns.holder).toBe('c');
    turns.leave('c');
    expect(turns.holder).toBeUndefined();
  });

  it('refuses a member whose signal aborted already', async () => {
    const turns = new Turns<string>();
    const stopped = new AbortController();
    stopped.abort();
    await expect(turns.take('a', stopped.signal)).rejects.toBeInstanceOf(TurnAbandonedError);
    expect(turns.holder).toBeUndefined();
  });
});
