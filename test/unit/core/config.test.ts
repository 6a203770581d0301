import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_ORDER_LINES, loadConfig, readSetting, SETTINGS } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { ORDER_MAX_LINES } from '../../../processors/events.ts';


/** What loadConfig throws for these settings (undefined if it accepts them). */
function configErrorOf(env: object, flags: object): unknown {
  try {
    loadConfig(env as Record<string, string>, flags as Record<string, string>);
    return undefined;
  } catch (error) {
    return error;
  }
}
describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/kstream',
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaClient: 'platformatic',
      ordersTopic: 'orders',
      inventoryTopic: 'inventory-updated',
      dlqTopic: 'orders.dlq',
      restockCommandsTopic: 'inventory-restock-commands',
      cancelCommandsTopic: 'order-cancel-commands',
      ordersConfirmedTopic: 'orders-confirmed',
      ordersRejectedTopic: 'orders-rejected',
      ordersCancelledTopic: 'orders-cancelled',
      inventoryRestockedTopic: 'inventory-restocked',
      partitions: 12,
      kafkaGroupProtocol: 'classic',
      kafkaSessionTimeoutMs: 10_000,
      restockIntervalMs: 5_000,
      restockQuantity: 200,
      restockBelow: 100,
    });
  });

  it('gives orders one line unless ORDER_LINES or --lines says otherwise (the processor decides one-line orders only, for now)', () => {
    expect(loadConfig({}, {}).orderLines).toMatchObject({ spec: DEFAULT_ORDER_LINES, mean: 2.4 });
    expect(loadConfig({ ORDER_LINES: '1' }, {}).orderLines).toEqual({ spec: '1', weights: [{ count: 1, weight: 1 }], mean: 1 });
    expect(loadConfig({ ORDER_LINES: DEFAULT_ORDER_LINES }, {}).orderLines).toMatchObject({ spec: DEFAULT_ORDER_LINES, mean: 2.4 });
    expect(loadConfig({ ORDER_LINES: DEFAULT_ORDER_LINES }, { lines: '2-4' }).orderLines).toMatchObject({ spec: '2-4', mean: 3 });
  });

  it('accepts as many lines as the OrderCreated contract does, and no more', () => {
    expect(readSetting(SETTINGS.orderLines, { ORDER_LINES: String(ORDER_MAX_LINES) }).mean).toBe(ORDER_MAX_LINES);
    expect(() => readSetting(SETTINGS.orderLines, { ORDER_LINES: String(ORDER_MAX_LINES + 1) })).toThrow(`an integer from 1 to ${ORDER_MAX_LINES}`);
  });

  it.each([
    [{}, { lines: '0' }, '--lines', 'invalid setting --lines "0": a line count must be an integer from 1 to 100'],
    [{ ORDER_LINES: '1:30,0:5' }, {}, 'ORDER_LINES', 'invalid setting ORDER_LINES "1:30,0:5": a line count must be an integer from 1 to 100, got "0"'],
    [{}, { lines: '4-2' }, '--lines', 'invalid setting --lines "4-2": a range A-B needs A <= B, got 4-2'],
  ])('says which part of a lines spec is wrong, in one line: %j %j', (env, flags, setting, message) => {
    const caught = configErrorOf(env, flags);
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ setting, message });
  });

  it('RESTOCK_INTERVAL is a duration, or 0 or off for no periodic restocks; its flag wins', () => {
    expect(loadConfig({ RESTOCK_INTERVAL: '1m30s' }).restockIntervalMs).toBe(90_000);
    expect(loadConfig({ RESTOCK_INTERVAL: 'off' }).restockIntervalMs).toBe(0);
    expect(loadConfig({ RESTOCK_INTERVAL: 'OFF' }).restockIntervalMs).toBe(0);
    expect(loadConfig({ RESTOCK_INTERVAL: '0' }).restockIntervalMs).toBe(0);
    expect(loadConfig({ RESTOCK_INTERVAL: 'off' }, { 'restock-interval': '2s', 'restock-quantity': '7', 'restock-below': '3' })).toMatchObject({ restockIntervalMs: 2000, restockQuantity: 7, restockBelow: 3 });
  });

  it('lets a flag win over its environment variable', () => {
    const config = loadConfig({ KAFKA_CLIENT: 'platformatic', PARTITIONS: '3' }, { client: 'kafkajs', partitions: '6' });
    expect(config.kafkaClient).toBe('kafkajs');
    expect(config.partitions).toBe(6);
  });

  it.each([
    [{ KAFKA_CLIENT: 'rdkafka' }, {}, 'KAFKA_CLIENT', 'one of platformatic|kafkajs'],
    [{}, { 'group-protocol': 'cooperative' }, '--group-protocol', 'one of classic|consumer'],
    [{ PARTITIONS: '0' }, {}, 'PARTITIONS', 'an integer from 1 to 1000'],
    [{ RESTOCK_COMMANDS_TOPIC: 'a/b' }, {}, 'RESTOCK_COMMANDS_TOPIC', 'a Kafka topic name'],
    [{ INVENTORY_RESTOCKED_TOPIC: '..' }, {}, 'INVENTORY_RESTOCKED_TOPIC', 'a Kafka topic name'],
    [{ RESTOCK_INTERVAL: '500ms' }, {}, 'RESTOCK_INTERVAL', 'a duration from 1.0s to 60m (e.g. 10s, 1m), or 0 or off'],
    [{ RESTOCK_INTERVAL: 'never' }, {}, 'RESTOCK_INTERVAL', 'or 0 or off'],
    [{}, { 'restock-interval': '2h' }, '--restock-interval', 'a duration'],
    [{ RESTOCK_QUANTITY: '0' }, {}, 'RESTOCK_QUANTITY', 'an integer from 1 to 2147483647'],
    [{}, { 'restock-below': '-1' }, '--restock-below', 'an integer from 1 to 2147483647'],
    [{ PARTITIONS: '2.5' }, {}, 'PARTITIONS', 'an integer'],
    [{ KAFKA_BROKERS: 'localhost' }, {}, 'KAFKA_BROKERS', 'host:port'],
    [{ DATABASE_URL: 'mysql://x/y' }, {}, 'DATABASE_URL', 'postgres://'],
    [{}, { 'batch-max-records': 'many' }, '--batch-max-records', 'an integer'],
    [{ MAX_INFLIGHT_PER_PARTITION: '100', MAX_INFLIGHT_TOTAL: '10' }, {}, 'MAX_INFLIGHT_TOTAL', 'at least'],
  ])('names the bad setting: %j %j', (env, flags, setting, expected) => {
    const caught = configErrorOf(env, flags);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe(setting);
    expect((caught as ConfigError).message).toContain(setting);
    expect((caught as ConfigError).message).toContain(expected);
  });
});

describe('a command given bad config', () => {
  it('prints one line naming the setting and exits 2, without a stack trace', () => {
    const result = spawnSync(process.execPath, ['app/cli.ts', 'run'], { env: { ...process.env, KAFKA_CLIENT: 'nope' }, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['error: invalid setting KAFKA_CLIENT: expected one of platformatic|kafkajs, got "nope"']);
  });

  it('refuses a bad --lines of run and of the load test in one line, exit 2, before connecting to anything', () => {
    for (const [args, line] of [
      [['app/cli.ts', 'run', '--lines', '0'], 'error: invalid setting --lines "0": a line count must be an integer from 1 to 100'],
      [['loadtest/cli.ts', '--lines', '1:30,2:x'], 'error: invalid setting --lines "1:30,2:x": a weight must be a positive number, got "x" in "2:x"'],
    ] as const) {
      const result = spawnSync(process.execPath, args, { env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, encoding: 'utf8' });
      expect({ args, status: result.status, stderr: result.stderr.trim().split('\n') }).toEqual({ args, status: 2, stderr: [line] });
    }
  });

  it('documents --lines in the help of run and of the load test', () => {
    for (const args of [['app/cli.ts', 'run', '--help'], ['loadtest/cli.ts', '--help']]) {
      const help = spawnSync(process.execPath, args, { encoding: 'utf8' }).stdout;
      expect(help).toMatch(/--lines .*ORDER_LINES/);
      expect(help).toContain(DEFAULT_ORDER_LINES);
    }
  });

  it('answers --help with usage and exit 0 on every command', () => {
    for (const args of [['app/cli.ts', '--help'], ['app/cli.ts', 'run', '--help'], ['app/cli.ts', 'describe', '--help'], ['app/cli.ts', 'status', '--help'], ['app/db-cli.ts', '--help'], ['loadtest/cli.ts', '--help']]) {
      const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect({ args, status: result.status }).toEqual({ args, status: 0 });
      expect(result.stdout).toMatch(/usage/i);
    }
  });
});
