import { describe, expect, it } from '@jest/globals';
import { StreamError } from '../../../core/errors.ts';
import { type RepartitionOptions, repartitionNodeNames, repartitionTopicName, TopologyBuilder } from '../../../topology/builder.ts';
import { subtopologiesOf } from '../../../topology/subtopologies.ts';
import { jsonCodec, memoryStoreSpec, upperCaseProcessor, type Word, wordCountTopology } from './fixtures.ts';

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

  describe('addRepartition', () => {
    const keyOf = (word: unknown) => (word as Word).text;
    const repartitioned = (applicationId?: string) =>
      new TopologyBuilder(applicationId === undefined ? {} : { applicationId })
        .addSource('src', { topics: ['t'], codec: jsonCodec })
        .addRepartition('by-text', { keyOf, codec: jsonCodec }, 'src')
        .addSink('out', { topic: 'o', codec: jsonCodec }, 'by-text-repartition-source');

    it('adds a sink to the internal topic <application>-<name>-repartition and a source reading it', () => {
      const topology = wordCountTopology({ partitions: 6 });
      expect(repartitionTopicName('wordcount', 'by-word')).toBe('wordcount-by-word-repartition');
      expect(repartitionNodeNames('by-word')).toEqual({ sink: 'by-word-repartition-sink', source: 'by-word-repartition-source' });
      expect(topology.applicationId).toBe('wordcount');
      expect(topology.repartitions).toEqual([
        {
          name: 'by-word',
          topic: 'wordcount-by-word-repartition',
          partitions: 6,
          sink: 'by-word-repartition-sink',
          writers: ['by-word-repartition-sink'],
          source: 'by-word-repartition-source',
        },
      ]);
      const sink = topology.nodes.find((node) => node.name === 'by-word-repartition-sink')!;
      expect(sink).toMatchObject({ kind: 'sink', topic: 'wordcount-by-word-repartition', repartition: 'by-word', parents: ['split-words'], children: [] });
      expect(sink.kind === 'sink' && sink.keyOf?.({ text: 'w' })).toBe('w');
      const source = topology.sourceByTopic.get('wordcount-by-word-repartition')!;
      expect(source).toMatchObject({ name: 'by-word-repartition-source', repartition: 'by-word', children: ['count-words'] });
      expect(source.keyOf?.({ text: 'w' })).toBe('w');
      expect(wordCountTopology().repartitions[0]!.partitions).toBeUndefined();
    });

    it('splits the graph into sub-topologies at the internal topic, upstream first', () => {
      // By source name alone "by-word-repartition-source" would come before "lines-source".
      expect(subtopologiesOf(wordCountTopology())).toEqual([
        { id: 0, nodes: ['lines-source', 'split-words', 'by-word-repartition-sink'], sourceTopics: ['lines'] },
        { id: 1, nodes: ['by-word-repartition-source', 'count-words', 'counts-sink'], sourceTopics: ['wordcount-by-word-repartition'] },
      ]);
    });

    it.each([
      ['a repartition without an application id', repartitioned(), 'a repartition needs an application id to name its topic'],
      ['an application id unfit for a topic name', repartitioned('my app'), 'application id "my app" is not usable in a topic name'],
      [
        'a repartition name unfit for a topic name',
        new TopologyBuilder({ applicationId: 'app' }).addSource('src', { topics: ['t'], codec: jsonCodec }).addRepartition('by text', { keyOf, codec: jsonCodec }, 'src'),
        'repartition name "by text" is not usable in a topic name',
      ],
      [
        'an internal topic name over 249 characters',
        new TopologyBuilder({ applicationId: 'a'.repeat(240) }).addSource('src', { topics: ['t'], codec: jsonCodec }).addRepartition('by-text', { keyOf, codec: jsonCodec }, 'src'),
        'is longer than 249 characters',
      ],
      [
        'a duplicate repartition name',
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('again', { keyOf, codec: jsonCodec }, 'src')
          .addRepartition('again', { keyOf, codec: jsonCodec }, 'src'),
        'duplicate repartition name "again"',
      ],
      [
        'a repartition partition count that is not a positive integer',
        new TopologyBuilder({ applicationId: 'app' }).addSource('src', { topics: ['t'], codec: jsonCodec }).addRepartition('by-text', { keyOf, codec: jsonCodec, partitions: 0 }, 'src'),
        'repartition "by-text" has 0 partitions',
      ],
      [
        'a repartition without a keyOf',
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('by-text', { codec: jsonCodec } as unknown as RepartitionOptions, 'src'),
        'repartition "by-text" needs a codec and a keyOf',
      ],
      [
        'a repartition without a parent',
        new TopologyBuilder({ applicationId: 'app' }).addSource('src', { topics: ['t'], codec: jsonCodec }).addRepartition('by-text', { keyOf, codec: jsonCodec }),
        'sink "by-text-repartition-sink" has no parent',
      ],
      [
        'a child naming the repartition instead of its source',
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('by-text', { keyOf, codec: jsonCodec }, 'src')
          .addProcessor('after', processor, 'by-text'),
        'processor "after" has unknown parent "by-text" (the repartition\'s children name "by-text-repartition-source")',
      ],
      [
        'a user sink writing an internal topic',
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('by-text', { keyOf, codec: jsonCodec }, 'src')
          .addSink('sneaky', { topic: 'app-by-text-repartition', codec: jsonCodec }, 'src'),
        'sink "sneaky" writes topic "app-by-text-repartition", internal to repartition "by-text" (write it with { repartition: "by-text" })',
      ],
      [
        'a user source reading an internal topic',
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('by-text', { keyOf, codec: jsonCodec }, 'src')
          .addSource('reader', { topics: ['app-by-text-repartition'], codec: jsonCodec }),
        'topic "app-by-text-repartition" is read by both "by-text-repartition-source" and "reader"',
      ],
    ])('rejects %s', (_case, builder, problem) => {
      const error = buildError(builder);
      expect(error.code).toBe('TOPOLOGY_INVALID');
      expect(error.message).toContain(problem);
    });

    describe('a sink into a repartition (one more writer)', () => {
      /** Two inputs into one repartition: alpha through its own sink, beta through a writer sink added before the repartition. */
      const twoWriters = () =>
        new TopologyBuilder({ applicationId: 'app' })
          .addSource('beta-source', { topics: ['beta'], codec: jsonCodec })
          .addProcessor('tag-beta', processor, 'beta-source')
          .addSink('beta-into-merged', { repartition: 'merged' }, 'tag-beta')
          .addSource('alpha-source', { topics: ['alpha'], codec: jsonCodec })
          .addRepartition('merged', { keyOf, codec: jsonCodec }, 'alpha-source')
          .addSink('out', { topic: 'o', codec: jsonCodec }, 'merged-repartition-source');

      it("writes the repartition's internal topic with its keyOf and codec, listed among its writers", () => {
        const topology = twoWriters().build();
        const own = topology.nodes.find((node) => node.name === 'merged-repartition-sink')!;
        const writer = topology.nodes.find((node) => node.name === 'beta-into-merged')!;
        expect(writer).toMatchObject({ kind: 'sink', topic: 'app-merged-repartition', repartition: 'merged', parents: ['tag-beta'] });
        expect(writer.kind === 'sink' && own.kind === 'sink' && writer.codec === own.codec && writer.keyOf === own.keyOf).toBe(true);
        expect(writer.kind === 'sink' && writer.keyOf?.({ text: 'w' })).toBe('w');
        expect(topology.repartitions).toEqual([
          {
            name: 'merged',
            topic: 'app-merged-repartition',
            partitions: undefined,
            sink: 'merged-repartition-sink',
            writers: ['merged-repartition-sink', 'beta-into-merged'],
            source: 'merged-repartition-source',
          },
        ]);
      });

      it("stays in its parents' sub-topology: the writers' sub-topologies are not merged", () => {
        expect(subtopologiesOf(twoWriters().build())).toEqual([
          { id: 0, nodes: ['alpha-source', 'merged-repartition-sink'], sourceTopics: ['alpha'] },
          { id: 1, nodes: ['beta-source', 'tag-beta', 'beta-into-merged'], sourceTopics: ['beta'] },
          { id: 2, nodes: ['merged-repartition-source', 'out'], sourceTopics: ['app-merged-repartition'] },
        ]);
      });

      it.each([
        ['an unknown repartition', twoWriters().addSink('lost', { repartition: 'nowhere' }, 'tag-beta'), 'sink "lost" writes unknown repartition "nowhere"'],
        [
          'a repartition and a topic',
          twoWriters().addSink('both', { repartition: 'merged', topic: 'o' } as never, 'tag-beta'),
          'sink "both" names repartition "merged" and a topic: it writes the repartition\'s topic with its codec, give only { repartition }',
        ],
        [
          'a repartition and a codec',
          twoWriters().addSink('both', { repartition: 'merged', codec: jsonCodec } as never, 'tag-beta'),
          'sink "both" names repartition "merged" and a codec',
        ],
      ])('rejects a sink naming %s', (_case, builder, problem) => {
        const error = buildError(builder);
        expect(error.code).toBe('TOPOLOGY_INVALID');
        expect(error.message).toContain(problem);
      });
    });

    describe('loops (allowed, as topics may loop in Kafka Streams)', () => {
      it('lets a repartition feed the sub-topology that writes it: both sides sharing a store are one sub-topology', () => {
        const topology = new TopologyBuilder({ applicationId: 'app' })
          .addStateStore(memoryStoreSpec('counts'))
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addProcessor('before', { supplier: upperCaseProcessor, stores: ['counts'] }, 'src')
          .addRepartition('by-text', { keyOf, codec: jsonCodec }, 'before')
          .addProcessor('after', { supplier: upperCaseProcessor, stores: ['counts'] }, 'by-text-repartition-source')
          .build();
        expect(subtopologiesOf(topology)).toEqual([
          { id: 0, nodes: ['src', 'before', 'by-text-repartition-sink', 'by-text-repartition-source', 'after'], sourceTopics: ['t', 'app-by-text-repartition'] },
        ]);
      });

      it('lets a sub-topology write the repartition it reads', () => {
        const topology = new TopologyBuilder({ applicationId: 'app' })
          .addSource('src', { topics: ['t'], codec: jsonCodec })
          .addRepartition('again', { keyOf, codec: jsonCodec }, 'src')
          .addProcessor('step', processor, 'again-repartition-source')
          .addSink('step-again', { repartition: 'again' }, 'step')
          .build();
        expect(subtopologiesOf(topology).map((subtopology) => subtopology.nodes)).toEqual([
          ['src', 'again-repartition-sink'],
          ['again-repartition-source', 'step', 'step-again'],
        ]);
      });

      it('puts a loop after what feeds it and before what it feeds, the member whose first source sorts first leading', () => {
        // z-feeder -> [ m <-> to-b ] -> a-tail; by first source name alone: a-tail, m, to-b, z-feeder.
        const topology = new TopologyBuilder({ applicationId: 'app' })
          .addSource('m-source', { topics: ['m'], codec: jsonCodec })
          .addProcessor('m-step', processor, 'm-source', 'to-m-repartition-source')
          .addRepartition('to-b', { keyOf, codec: jsonCodec }, 'm-step')
          .addProcessor('b-step', processor, 'to-b-repartition-source')
          .addRepartition('to-m', { keyOf, codec: jsonCodec }, 'b-step')
          .addSource('z-feeder-source', { topics: ['f'], codec: jsonCodec })
          .addSink('feeder-into-b', { repartition: 'to-b' }, 'z-feeder-source')
          .addRepartition('a-tail', { keyOf, codec: jsonCodec }, 'm-step')
          .addSink('tail-sink', { topic: 'out', codec: jsonCodec }, 'a-tail-repartition-source')
          .build();
        expect(subtopologiesOf(topology).map((subtopology) => subtopology.nodes[0])).toEqual(['z-feeder-source', 'm-source', 'to-b-repartition-source', 'a-tail-repartition-source']);
      });

      it('goes on round a loop from its first member, each next one fed by those placed already', () => {
        // t2 -> t1 -> t3 -> t2, first sources sorting t1 < t2 < t3: t1 leads, then t3 (fed by t1), then t2.
        const step = (source: string, back: string, forth: string) => (builder: TopologyBuilder) =>
          builder
            .addSource(source, { topics: [source], codec: jsonCodec })
            .addProcessor(`${source}-step`, processor, source, `to-${back}-repartition-source`)
            .addRepartition(`to-${forth}`, { keyOf, codec: jsonCodec }, `${source}-step`);
        const topology = [step('t2', 't2', 't1'), step('t1', 't1', 't3'), step('t3', 't3', 't2')].reduce((builder, add) => add(builder), new TopologyBuilder({ applicationId: 'app' })).build();
        expect(subtopologiesOf(topology).map((subtopology) => subtopology.sourceTopics.find((topic) => !topic.startsWith('app-')))).toEqual(['t1', 't3', 't2']);
      });
    });

    it('keeps a topology without repartitions buildable without an application id', () => {
      const topology = new TopologyBuilder().addSource('src', { topics: ['t'], codec: jsonCodec }).addSink('out', { topic: 'o', codec: jsonCodec }, 'src').build();
      expect(topology.applicationId).toBeUndefined();
      expect(topology.repartitions).toEqual([]);
    });
  });
});
