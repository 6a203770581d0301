/**
 * Typed event channels over `node:diagnostics_channel`: the runtime, the relay and the source
 * publish what happens; metrics, status and tests subscribe. A publisher pays one check while
 * nobody listens, and a subscriber outlives the instance that published (a role restarted by
 * its supervisor publishes on the same channel), so nothing polls counters of an instance.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export class EventChannel<T> {
  readonly name: string;
  readonly #channel: diagnosticsChannel.Channel;

  constructor(name: string) {
    this.name = name;
    this.#channel = diagnosticsChannel.channel(name);
  }

  /** Whether anyone listens: a publisher that must build its event first can skip that. */
  get hasSubscribers(): boolean {
    return this.#channel.hasSubscribers;
  }

  publish(event: T): void {
    if (this.#channel.hasSubscribers) this.#channel.publish(event);
  }

  /** Calls `listener` with every event published from now on; returns the unsubscribe. */
  subscribe(listener: (event: T) => void): () => void {
    const onMessage = (message: unknown) => listener(message as T);
    diagnosticsChannel.subscribe(this.name, onMessage);
    return () => {
      diagnosticsChannel.unsubscribe(this.name, onMessage);
    };
  }
}
