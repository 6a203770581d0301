import { describe, expect, it } from '@jest/globals';
import { StreamError } from '../../../core/errors.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { jsonCodec, memoryStoreSpec, upperCaseProcessor } from './fixtures.ts';

const processor = { supplier: upperCaseProcessor };

function buildError(builder: TopologyBuilder): StreamError {
  try {
    builder.build();
  } catch (error) {
    return error as StreamError;
  }
  throw new Error('build() did not throw');
}

describe('TopologyBuilder', () => {
  it('builds plain data with children in the order they were added', () => {
    const topology = new TopologyBuilder()
      .addSource('src', { topics: ['words'], codec: jsonCodec })
      .addProcessor('upper', processor, 'src')
      .addSink('sink-a', { topic: 'a', codec: jsonCodec }, 'upper')
      .addSink('sink-b', { topic: 'b', codec: jsonCodec }, 'upper')
      .build();

    expect(topology.nodes.map((node) => node.name)).toEqual(['src', 'upper', 'sink-a', 'sink-b']);
    expect(topology.nodes[1]!.children).toEqual(['sink-a', 'sink-b']);
    expect(topology.sourceByTopic.get('words')?.name).toBe('src');
    expect(Object.isFrozen(topology)).toBe(true);
  });

  it.each([
    [
      'duplicate names',
      new TopologyBuilder().addSource('src', { topics: ['t'], codec: jsonCodec }).addProcessor('src', processor, 'src'),
      'duplicate node name "src"',
    ],
    [
      'unknown parents',
      new TopologyBuilder().addSource('src', { topics: ['t'], codec: jsonCodec }).addSink('sink', { topic: 'o', codec: jsonCodec }, 'nope'),
      'sink "sink" has unknown parent "nope"',
    ],
    ['a source without topics', new TopologyBuilder().addSource('src', { topics: [], codec: jsonCodec }), 'source "src" has no topics'],
    [
      'a processor naming an unknown store',
      new TopologyBuilder()
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addProcessor('p', { supplier: upperCaseProcessor, stores: ['missing'] }, 'src'),
      'processor "p" uses unknown store "missing"',
    ],
    [
      'a sink used as a parent',
      new TopologyBuilder()
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addSink('sink', { topic: 'o', codec: jsonCodec }, 'src')
        .addProcessor('p', processor, 'sink'),
      'processor "p" has sink "sink" as parent',
    ],
    [
      'two sources reading one topic',
      new TopologyBuilder().addSource('a', { topics: ['t'], codec: jsonCodec }).addSource('b', { topics: ['t'], codec: jsonCodec }),
      'topic "t" is read by both "a" and "b"',
    ],
    [
      'prefetch on a processor not fed by a source',
      new TopologyBuilder()
        .addStateStore(memoryStoreSpec('counts'))
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addProcessor('first', processor, 'src')
        .addProcessor('second', { supplier: upperCaseProcessor, stores: ['counts'], prefetch: () => ({ counts: [] }) }, 'first'),
      'processor "second" has prefetch but is fed by non-source "first"',
    ],
    ['no source at all', new TopologyBuilder(), 'no source node'],
  ])('rejects %s', (_case, builder, problem) => {
    const error = buildError(builder);
    expect(error).toBeInstanceOf(StreamError);
    expect(error.code).toBe('TOPOLOGY_INVALID');
    expect(error.message).toContain(problem);
  });

  it('rejects a cycle and names its path', () => {
    const error = buildError(
      new TopologyBuilder()
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addProcessor('a', processor, 'src', 'c')
        .addProcessor('b', processor, 'a')
        .addProcessor('c', processor, 'b'),
    );
    expect(error.code).toBe('TOPOLOGY_INVALID');
    expect(error.message).toMatch(/cycle (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/);
  });

  it('rejects nodes unreachable from any source', () => {
    const error = buildError(
      new TopologyBuilder()
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addSink('sink', { topic: 'o', codec: jsonCodec }, 'src')
        .addProcessor('loop-a', processor, 'loop-b')
        .addProcessor('loop-b', processor, 'loop-a'),
    );
    expect(error.message).toContain('node "loop-a" is not reachable from any source');
    expect(error.message).toContain('node "loop-b" is not reachable from any source');
  });

  it('reports every problem at once', () => {
    const error = buildError(
      new TopologyBuilder()
        .addSource('src', { topics: [], codec: jsonCodec })
        .addProcessor('p', { supplier: upperCaseProcessor, stores: ['nope'] }, 'ghost'),
    );
    expect(error.context.problems).toEqual(
      expect.arrayContaining(['source "src" has no topics', 'processor "p" has unknown parent "ghost"', 'processor "p" uses unknown store "nope"']),
    );
  });
});
