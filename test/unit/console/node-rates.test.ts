import { describe, expect, it } from '@jest/globals';
import { graphRates, type RateSample, ratePerSecond, sinkTopics } from '../../../app/console/node-rates.ts';
import { describeTopology } from '../../../topology/describe/index.ts';
import { wordCountTopology } from '../topology/fixtures.ts';

const sample = (atMs: number, committed: Record<string, bigint>, ends: Record<string, bigint>): RateSample => ({ atMs, committed: new Map(Object.entries(committed)), ends: new Map(Object.entries(ends)) });

describe('records per second of the graph\'s nodes', () => {
  it('rates a growth over the window: one decimal below 10, whole above, 0 when nothing grew or a counter went back', () => {
    expect(ratePerSecond(0n, 5n, 2000)).toBe(2.5);
    expect(ratePerSecond(0n, 1n, 3000)).toBe(0.3);
    expect(ratePerSecond(100n, 1334n, 1000)).toBe(1234);
    expect(ratePerSecond(5n, 5n, 1000)).toBe(0);
    expect(ratePerSecond(9n, 3n, 1000)).toBe(0);
    expect(ratePerSecond(undefined, 3n, 1000)).toBe(0);
    expect(ratePerSecond(0n, 3n, 0)).toBe(0);
  });

  it('a source from its topics\' committed offsets, a processor from its sub-topology\'s input, a sink from its topic\'s end offsets', () => {
    const description = describeTopology(wordCountTopology());
    const [first, second] = description.subtopologies;
    const source = first!.nodes.find((node) => node.type === 'source')!;
    const sourceTopic = source.type === 'source' ? source.topics[0]! : '';
    const repartitionSink = first!.nodes.find((node) => node.type === 'sink')!;
    const repartitionTopic = repartitionSink.type === 'sink' ? repartitionSink.topic : '';
    const before = sample(1000, { [sourceTopic]: 10n, [repartitionTopic]: 0n }, { [repartitionTopic]: 0n });
    const after = sample(3000, { [sourceTopic]: 30n, [repartitionTopic]: 8n }, { [repartitionTopic]: 50n });
    const rates = graphRates(description, before, after);

    expect(Object.keys(rates.nodes).sort()).toEqual(description.subtopologies.flatMap((subtopology) => subtopology.nodes.map((node) => node.name)).sort());
    expect(rates.nodes[source.name]).toEqual({ recordsPerSecond: 10 });
    for (const node of first!.nodes.filter((each) => each.type === 'processor')) expect(rates.nodes[node.name]).toEqual({ recordsPerSecond: 10 });
    expect(rates.nodes[repartitionSink.name]).toEqual({ recordsPerSecond: 25 });
    // The second sub-topology reads the repartition topic: its input is what it committed there.
    for (const node of second!.nodes.filter((each) => each.type !== 'sink')) expect(rates.nodes[node.name]).toEqual({ recordsPerSecond: 4 });
    expect([...rates.subtopologies]).toEqual([
      [first!.id, 10],
      [second!.id, 4],
    ]);
  });

  it('is 0 everywhere between a sample and itself (the first snapshot)', () => {
    const description = describeTopology(wordCountTopology());
    const only = sample(1000, Object.fromEntries(sinkTopics(description).map((topic) => [topic, 7n])), Object.fromEntries(sinkTopics(description).map((topic) => [topic, 9n])));
    const rates = graphRates(description, only, only);
    expect(new Set(Object.values(rates.nodes).map((node) => node.recordsPerSecond))).toEqual(new Set([0]));
  });

  it('sink topics: each topic a sink writes, once', () => {
    const description = describeTopology(wordCountTopology());
    const topics = sinkTopics(description);
    expect(topics).toEqual([...new Set(topics)]);
    expect(topics.length).toBeGreaterThan(0);
  });
});
