import { describe, expect, it } from '@jest/globals';
import { RoleSupervisor } from '../../../app/supervisor.ts';
import { ConfigError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { checkOptions } from '../../../core/options.ts';
import { DeadlineProducer } from '../../../kafka/send-deadline.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';

describe('constructor options', () => {
  it('are checked against their rules, absent ones left to their defaults', () => {
    expect(() => checkOptions('Thing', { size: 3, name: 'a' } as { size: number; name: string; every?: number }, { size: 'positive-integer', name: 'non-empty-string', every: 'positive-integer' })).not.toThrow();
    expect(() => checkOptions('Thing', { size: 0 }, { size: 'positive-integer' })).toThrow(new ConfigError('Thing option size', 'a positive integer', '0'));
    expect(() => checkOptions('Thing', { size: 1.5 }, { size: 'non-negative-integer' })).toThrow('invalid setting Thing option size: expected a non-negative integer, got "1.5"');
    expect(() => checkOptions('Thing', { name: ' ' }, { name: 'non-empty-string' })).toThrow('Thing option name');
    expect(() => checkOptions('Thing', {} as { start?: () => void }, { start: 'function' }, ['start'])).toThrow('invalid setting Thing option start: expected a function, got nothing');
  });

  it('fail when the object is built, naming the option', async () => {
    await expect(DeadlineProducer.create({ create: async () => ({ send: async () => {}, close: async () => {} }), timeoutMs: 0, logger: silentLogger })).rejects.toThrow(
      'invalid setting DeadlineProducer option timeoutMs: expected a positive integer, got "0"',
    );
    expect(() => new TopologyTestDriver(new TopologyBuilder().addSource('in', { topics: ['in'], codec: { decode: () => 1, encode: () => Buffer.alloc(0) } }).build(), { partitions: 0 })).toThrow(
      'invalid setting TopologyTestDriver option partitions: expected a positive integer, got "0"',
    );
    await expect(RoleSupervisor.start({ name: '', start: async () => ({ stop: async () => {}, failed: new Promise<never>(() => {}) }), logger: silentLogger })).rejects.toThrow(
      'RoleSupervisor option name',
    );
  });
});
