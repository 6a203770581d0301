import { describe, expect, it } from '@jest/globals';
import { isRetriable } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { DeadlineProducer, SendTimeoutError } from '../../../kafka/send-deadline.ts';

/** A producer that records what it sent, or never answers when `stuck`. */
function fakeProducer(stuck: boolean) {
  const sent: OutgoingMessage[][] = [];
  let closed = false;
  const producer: KafkaProducer = {
    send(messages) {
      if (stuck) return new Promise<void>(() => {});
      sent.push(messages);
      return Promise.resolve();
    },
    close: async () => {
      closed = true;
    },
  };
  return { producer, sent, closed: () => closed };
}

const message: OutgoingMessage = { topic: 't', key: 'k', value: 'v' };

describe('DeadlineProducer', () => {
  it('passes sends through while they settle in time', async () => {
    const healthy = fakeProducer(false);
    const guarded = await DeadlineProducer.create({ create: async () => healthy.producer, timeoutMs: 50, logger: silentLogger });
    await guarded.send([message]);
    expect(healthy.sent).toEqual([[message]]);
    expect(guarded.replacements).toBe(0);
  });

  it('fails a stuck send with a retriable SendTimeoutError, closes the stuck producer and sends the next one through a new producer', async () => {
    const stuck = fakeProducer(true);
    const fresh = fakeProducer(false);
    const made = [stuck.producer, fresh.producer];
    const guarded = await DeadlineProducer.create({ create: async () => made.shift()!, timeoutMs: 20, logger: silentLogger });

    const failure = await guarded.send([message]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SendTimeoutError);
    expect(isRetriable(failure)).toBe(true);
    expect(stuck.closed()).toBe(true);

    await guarded.send([message]);
    expect(fresh.sent).toEqual([[message]]);
    expect(guarded.replacements).toBe(1);
  });

  it('replaces a producer once when several sends are stuck on it', async () => {
    const stuck = fakeProducer(true);
    let created = 0;
    const guarded = await DeadlineProducer.create({
      create: async () => (created++ === 0 ? stuck.producer : fakeProducer(false).producer),
      timeoutMs: 20,
      logger: silentLogger,
    });
    const results = await Promise.allSettled([guarded.send([message]), guarded.send([message])]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(guarded.replacements).toBe(1);
    expect(created).toBe(2);
  });
});
