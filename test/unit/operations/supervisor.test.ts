import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { type RoleHandle, RoleSupervisor } from '../../../app/supervisor.ts';
import { ConfigError, ServiceUnavailableError } from '../../../core/errors.ts';
import { waitFor } from '../../../core/wait.ts';
import { memoryLogger } from '../../support/memory-logger.ts';

/** A role instance the test fails or watches being stopped. */
class FakeRole implements RoleHandle {
  stopped = false;
  readonly failed: Promise<never>;
  fail!: (error: unknown) => void;

  constructor() {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const fast = { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 };

afterEach(() => {
  jest.useRealTimers();
});

describe('RoleSupervisor', () => {
  it('restarts a role that fails, stopping the failed instance first and logging each restart with its backoff', async () => {
    const logger = memoryLogger();
    const instances: FakeRole[] = [];
    const started: FakeRole[] = [];
    const supervisor = await RoleSupervisor.start({
      name: 'source',
      logger,
      policy: fast,
      start: async () => {
        const role = new FakeRole();
        instances.push(role);
        return role;
      },
      onStarted: (role) => started.push(role),
    });
    expect(supervisor.current).toBe(instances[0]);
    instances[0]!.fail(new Error('send failed: MESSAGE_TOO_LARGE'));
    await waitFor(() => instances.length === 2, 'a restart');
    expect(instances[0]!.stopped).toBe(true);
    instances[1]!.fail(new Error('send failed again'));
    await waitFor(() => instances.length === 3, 'a second restart');
    expect(started).toEqual(instances);
    expect(supervisor.restarts).toBe(2);
    const lines = logger.lines.filter((line) => line.message.startsWith('source failed; restarting it in'));
    expect(lines.map((line) => line.fields)).toEqual([
      expect.objectContaining({ role: 'source', restart: 1, delayMs: 5, error: 'send failed: MESSAGE_TOO_LARGE' }),
      expect.objectContaining({ role: 'source', restart: 2, delayMs: 10, error: 'send failed again' }),
    ]);
    await supervisor.stop();
    expect(instances[2]!.stopped).toBe(true);
  });

  it('keeps trying a role that cannot start (a service is down), then runs it', async () => {
    const logger = memoryLogger();
    let attempts = 0;
    const supervisor = await RoleSupervisor.start({
      name: 'processor',
      logger,
      policy: fast,
      start: async () => {
        attempts++;
        if (attempts < 4) throw new ServiceUnavailableError('Kafka', 'connection refused');
        return new FakeRole();
      },
    });
    // The first start failed: start() resolved anyway, and retries go on in the background.
    expect(supervisor.current).toBeUndefined();
    await waitFor(() => supervisor.current !== undefined, 'started at last');
    expect(attempts).toBe(4);
    expect(logger.lines.filter((line) => line.message.startsWith('processor could not start'))).toHaveLength(3);
    await supervisor.stop();
  });

  it('does not retry bad configuration: the first start rejects, a later one is reported and ends supervision', async () => {
    await expect(
      RoleSupervisor.start({
        name: 'relay',
        logger: memoryLogger(),
        start: async () => {
          throw new ConfigError('DATABASE_URL', 'a postgres:// URL', 'nope');
        },
      }),
    ).rejects.toBeInstanceOf(ConfigError);

    // Virtual time: "no restart within a second" is exact, not a race with the backoff timer.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    const reported: ConfigError[] = [];
    let starts = 0;
    const first = new FakeRole();
    const logger = memoryLogger();
    const supervisor = await RoleSupervisor.start({
      name: 'relay',
      logger,
      policy: fast,
      start: async () => {
        starts++;
        if (starts > 1) throw new ConfigError('OUTBOX_TOPIC', 'a topic name', '');
        return first;
      },
      onConfigError: (error) => reported.push(error),
    });
    first.fail(new Error('boom'));
    await jest.advanceTimersByTimeAsync(1_000); // fifty times the longest backoff of `fast`
    expect(reported).toHaveLength(1);
    expect(logger.lines.filter((line) => line.message.startsWith('relay stopped:'))).toHaveLength(1);
    expect(starts).toBe(2);
    await supervisor.stop();
  });

  it('stop() during a backoff cancels the restart at once', async () => {
    const instances: FakeRole[] = [];
    const supervisor = await RoleSupervisor.start({
      name: 'source',
      logger: memoryLogger(),
      policy: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
      start: async () => {
        const role = new FakeRole();
        instances.push(role);
        return role;
      },
    });
    instances[0]!.fail(new Error('boom'));
    await waitFor(() => instances[0]!.stopped, 'the failed instance stopped');
    const startedAt = Date.now();
    await supervisor.stop();
    expect(Date.now() - startedAt).toBeLessThan(500);
    expect(instances).toHaveLength(1);
  });
});
