import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { TopologyBuilder } from '../../../topology/builder.ts';
import {
  describeTopology,
  formatDot,
  formatJson,
  formatMermaid,
  formatText,
  GraphvizMissingError,
  renderImage,
} from '../../../topology/describe/index.ts';
import { jsonCodec, memoryStoreSpec, upperCaseProcessor, wordCountTopology } from './fixtures.ts';

const processor = { supplier: upperCaseProcessor };

function inventoryTopology() {
  return new TopologyBuilder()
    .addStateStore(memoryStoreSpec('inventory'))
    .addStateStore(memoryStoreSpec('order-decisions'))
    .addSource('orders-source', { topics: ['orders'], codec: jsonCodec })
    .addProcessor('inventory-processor', { supplier: upperCaseProcessor, stores: ['inventory', 'order-decisions'] }, 'orders-source')
    .addSink('inventory-sink', { topic: 'inventory-updated', codec: jsonCodec }, 'inventory-processor')
    .build();
}

function branchingTopology() {
  return new TopologyBuilder()
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('splitter', processor, 'words-source')
    .addProcessor('upper-case', processor, 'splitter')
    .addProcessor('lower-case', processor, 'splitter')
    .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'upper-case')
    .addSink('lower-sink', { topic: 'lower', codec: jsonCodec }, 'lower-case')
    .addSink('audit-sink', { topic: 'audit', codec: jsonCodec }, 'lower-case')
    .addSource('clicks-source', { topics: ['clicks'], codec: jsonCodec })
    .addSink('clicks-sink', { topic: 'clicks-out', codec: jsonCodec }, 'clicks-source')
    .build();
}

describe('formatText (Kafka Streams TopologyDescription format)', () => {
  it('prints a source -> processor -> sink topology exactly', () => {
    expect(formatText(describeTopology(inventoryTopology()))).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: orders-source (topics: [orders])\n' +
        '      --> inventory-processor\n' +
        '    Processor: inventory-processor (stores: [inventory, order-decisions])\n' +
        '      --> inventory-sink\n' +
        '      <-- orders-source\n' +
        '    Sink: inventory-sink (topic: inventory-updated)\n' +
        '      <-- inventory-processor\n' +
        '\n',
    );
  });

  it('numbers sub-topologies by source name and orders nodes by downstream size, then name', () => {
    expect(formatText(describeTopology(branchingTopology()))).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: clicks-source (topics: [clicks])\n' +
        '      --> clicks-sink\n' +
        '    Sink: clicks-sink (topic: clicks-out)\n' +
        '      <-- clicks-source\n' +
        '\n' +
        '  Sub-topology: 1\n' +
        '    Source: words-source (topics: [words])\n' +
        '      --> splitter\n' +
        '    Processor: splitter (stores: [])\n' +
        '      --> lower-case, upper-case\n' +
        '      <-- words-source\n' +
        '    Processor: lower-case (stores: [])\n' +
        '      --> audit-sink, lower-sink\n' +
        '      <-- splitter\n' +
        '    Processor: upper-case (stores: [])\n' +
        '      --> upper-sink\n' +
        '      <-- splitter\n' +
        '    Sink: audit-sink (topic: audit)\n' +
        '      <-- lower-case\n' +
        '    Sink: lower-sink (topic: lower)\n' +
        '      <-- lower-case\n' +
        '    Sink: upper-sink (topic: upper)\n' +
        '      <-- upper-case\n' +
        '\n',
    );
  });

  it('prints "none" for a processor without children and lists several parents', () => {
    const topology = new TopologyBuilder()
      .addSource('a', { topics: ['ta'], codec: jsonCodec })
      .addSource('b', { topics: ['tb'], codec: jsonCodec })
      .addProcessor('merge', processor, 'a', 'b')
      .build();
    expect(formatText(describeTopology(topology))).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: a (topics: [ta])\n' +
        '      --> merge\n' +
        '    Source: b (topics: [tb])\n' +
        '      --> merge\n' +
        '    Processor: merge (stores: [])\n' +
        '      --> none\n' +
        '      <-- a, b\n' +
        '\n',
    );
  });
});

describe('describeTopology', () => {
  it('puts processors sharing a store into one sub-topology', () => {
    const topology = new TopologyBuilder()
      .addStateStore(memoryStoreSpec('shared'))
      .addSource('a', { topics: ['ta'], codec: jsonCodec })
      .addSource('b', { topics: ['tb'], codec: jsonCodec })
      .addProcessor('pa', { supplier: upperCaseProcessor, stores: ['shared'] }, 'a')
      .addProcessor('pb', { supplier: upperCaseProcessor, stores: ['shared'] }, 'b')
      .build();
    const description = describeTopology(topology);
    expect(description.subtopologies).toHaveLength(1);
    expect(description.stores).toEqual([{ name: 'shared', usedBy: ['pa', 'pb'] }]);
  });
});

describe('formatMermaid / formatDot / formatJson', () => {
  const description = describeTopology(inventoryTopology());

  it('draws a left-to-right flowchart with stores as cylinders', () => {
    const mermaid = formatMermaid(description);
    const lines = mermaid.trim().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(mermaid).toMatch(/subgraph sub\d+\["Sub-topology: 0"\]/);
    expect(mermaid).toMatch(/store\d+\[\("inventory"\)\]/);
    expect(mermaid).toMatch(/store\d+\[\("order-decisions"\)\]/);
    expect(mermaid).toMatch(/topic\d+>"orders"\]/);
    // topic -> source -> processor -> sink -> topic, and the processor's dotted store links
    expect(lines.filter((line) => line.includes(' --> '))).toHaveLength(4);
    expect(lines.filter((line) => line.includes(' -.- '))).toHaveLength(2);
  });

  it('writes Graphviz DOT with one cluster per sub-topology', () => {
    const dot = formatDot(description);
    expect(dot.startsWith('digraph topology {\n  rankdir=LR;')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot).toContain('subgraph cluster_0 {');
    expect(dot).toContain('"store:inventory" [label="inventory", shape=cylinder];');
    expect(dot).toContain('"topic:orders" -> "node:orders-source";');
    expect(dot).toContain('"node:orders-source" -> "node:inventory-processor";');
    expect(dot).toContain('"node:inventory-sink" -> "topic:inventory-updated";');
  });

  it('escapes quotes in DOT identifiers', () => {
    const topology = new TopologyBuilder()
      .addSource('say "hi"', { topics: ['t'], codec: jsonCodec })
      .addSink('s', { topic: 'o', codec: jsonCodec }, 'say "hi"')
      .build();
    expect(formatDot(describeTopology(topology))).toContain('"node:say \\"hi\\""');
  });

  it('serialises the description as JSON', () => {
    const parsed = JSON.parse(formatJson(description));
    expect(parsed.subtopologies[0].nodes.map((node: { type: string; name: string }) => `${node.type}:${node.name}`)).toEqual([
      'source:orders-source',
      'processor:inventory-processor',
      'sink:inventory-sink',
    ]);
    expect(parsed.subtopologies[0].nodes[1]).toEqual({
      type: 'processor',
      name: 'inventory-processor',
      stores: ['inventory', 'order-decisions'],
      predecessors: ['orders-source'],
      successors: ['inventory-sink'],
    });
  });
});

describe('two sub-topologies joined by a repartition topic (golden)', () => {
  const description = describeTopology(wordCountTopology({ partitions: 4 }));

  it('prints both sub-topologies in Kafka Streams text, the internal topic on the sink and the source', () => {
    expect(formatText(description)).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: lines-source (topics: [lines])\n' +
        '      --> split-words\n' +
        '    Processor: split-words (stores: [])\n' +
        '      --> by-word-repartition-sink\n' +
        '      <-- lines-source\n' +
        '    Sink: by-word-repartition-sink (topic: wordcount-by-word-repartition)\n' +
        '      <-- split-words\n' +
        '\n' +
        '  Sub-topology: 1\n' +
        '    Source: by-word-repartition-source (topics: [wordcount-by-word-repartition])\n' +
        '      --> count-words\n' +
        '    Processor: count-words (stores: [word-counts])\n' +
        '      --> counts-sink\n' +
        '      <-- by-word-repartition-source\n' +
        '    Sink: counts-sink (topic: word-counts)\n' +
        '      <-- count-words\n' +
        '\n',
    );
  });

  it('draws Mermaid with one subgraph each, joined through the internal topic', () => {
    expect(formatMermaid(description)).toBe(
      [
        'flowchart LR',
        '  subgraph sub0["Sub-topology: 0"]',
        '    node1(["Source: lines-source"])',
        '    node3["Processor: split-words"]',
        '    node4(["Sink: by-word-repartition-sink"])',
        '  end',
        '  subgraph sub6["Sub-topology: 1"]',
        '    node7(["Source: by-word-repartition-source"])',
        '    node8["Processor: count-words"]',
        '    node10(["Sink: counts-sink"])',
        '  end',
        '  topic2>"lines"]',
        '  topic5>"wordcount-by-word-repartition"]',
        '  topic11>"word-counts"]',
        '  store9[("word-counts")]',
        '  topic2 --> node1',
        '  node1 --> node3',
        '  node3 --> node4',
        '  node4 --> topic5',
        '  topic5 --> node7',
        '  node7 --> node8',
        '  node8 -.- store9',
        '  node8 --> node10',
        '  node10 --> topic11',
        '',
      ].join('\n'),
    );
  });

  it('writes DOT with one cluster each, joined through the internal topic', () => {
    expect(formatDot(description)).toBe(
      [
        'digraph topology {',
        '  rankdir=LR;',
        '  graph [fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  subgraph cluster_0 {',
        '    label="Sub-topology: 0";',
        '    "node:lines-source" [label="Source: lines-source", shape=box, style=rounded];',
        '    "node:split-words" [label="Processor: split-words", shape=box];',
        '    "node:by-word-repartition-sink" [label="Sink: by-word-repartition-sink", shape=box, style=rounded];',
        '  }',
        '  subgraph cluster_1 {',
        '    label="Sub-topology: 1";',
        '    "node:by-word-repartition-source" [label="Source: by-word-repartition-source", shape=box, style=rounded];',
        '    "node:count-words" [label="Processor: count-words", shape=box];',
        '    "node:counts-sink" [label="Sink: counts-sink", shape=box, style=rounded];',
        '  }',
        '  "topic:lines" [label="lines", shape=cds];',
        '  "topic:wordcount-by-word-repartition" [label="wordcount-by-word-repartition", shape=cds];',
        '  "topic:word-counts" [label="word-counts", shape=cds];',
        '  "store:word-counts" [label="word-counts", shape=cylinder];',
        '  "topic:lines" -> "node:lines-source";',
        '  "node:lines-source" -> "node:split-words";',
        '  "node:split-words" -> "node:by-word-repartition-sink";',
        '  "node:by-word-repartition-sink" -> "topic:wordcount-by-word-repartition";',
        '  "topic:wordcount-by-word-repartition" -> "node:by-word-repartition-source";',
        '  "node:by-word-repartition-source" -> "node:count-words";',
        '  "node:count-words" -> "store:word-counts" [style=dashed, dir=none];',
        '  "node:count-words" -> "node:counts-sink";',
        '  "node:counts-sink" -> "topic:word-counts";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('lists the internal topic in JSON with the sub-topologies it joins', () => {
    expect(JSON.parse(formatJson(description))).toEqual({
      subtopologies: [
        {
          id: 0,
          nodes: [
            { type: 'source', name: 'lines-source', topics: ['lines'], successors: ['split-words'] },
            { type: 'processor', name: 'split-words', stores: [], predecessors: ['lines-source'], successors: ['by-word-repartition-sink'] },
            { type: 'sink', name: 'by-word-repartition-sink', topic: 'wordcount-by-word-repartition', predecessors: ['split-words'] },
          ],
        },
        {
          id: 1,
          nodes: [
            { type: 'source', name: 'by-word-repartition-source', topics: ['wordcount-by-word-repartition'], successors: ['count-words'] },
            { type: 'processor', name: 'count-words', stores: ['word-counts'], predecessors: ['by-word-repartition-source'], successors: ['counts-sink'] },
            { type: 'sink', name: 'counts-sink', topic: 'word-counts', predecessors: ['count-words'] },
          ],
        },
      ],
      stores: [{ name: 'word-counts', usedBy: ['count-words'] }],
      internalTopics: [
        {
          topic: 'wordcount-by-word-repartition',
          partitions: 4,
          sink: 'by-word-repartition-sink',
          source: 'by-word-repartition-source',
          fromSubtopology: 0,
          toSubtopology: 1,
        },
      ],
    });
    expect(JSON.parse(formatJson(describeTopology(wordCountTopology()))).internalTopics[0]).not.toHaveProperty('partitions');
  });
});

describe('a repartition with two writers', () => {
  const topology = new TopologyBuilder({ applicationId: 'app' })
    .addSource('alpha-source', { topics: ['alpha'], codec: jsonCodec })
    .addRepartition('merged', { keyOf: (value) => String(value), codec: jsonCodec }, 'alpha-source')
    .addSource('beta-source', { topics: ['beta'], codec: jsonCodec })
    .addSink('beta-into-merged', { repartition: 'merged' }, 'beta-source')
    .addSink('out', { topic: 'o', codec: jsonCodec }, 'merged-repartition-source')
    .build();
  const description = describeTopology(topology);

  it('prints the second writer as a sink of the internal topic in its own sub-topology', () => {
    expect(formatText(description)).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: alpha-source (topics: [alpha])\n' +
        '      --> merged-repartition-sink\n' +
        '    Sink: merged-repartition-sink (topic: app-merged-repartition)\n' +
        '      <-- alpha-source\n' +
        '\n' +
        '  Sub-topology: 1\n' +
        '    Source: beta-source (topics: [beta])\n' +
        '      --> beta-into-merged\n' +
        '    Sink: beta-into-merged (topic: app-merged-repartition)\n' +
        '      <-- beta-source\n' +
        '\n' +
        '  Sub-topology: 2\n' +
        '    Source: merged-repartition-source (topics: [app-merged-repartition])\n' +
        '      --> out\n' +
        '    Sink: out (topic: o)\n' +
        '      <-- merged-repartition-source\n' +
        '\n',
    );
  });

  it('lists the internal topic once per writer in JSON, its own sink first', () => {
    expect(description.internalTopics).toEqual([
      { topic: 'app-merged-repartition', sink: 'merged-repartition-sink', source: 'merged-repartition-source', fromSubtopology: 0, toSubtopology: 2 },
      { topic: 'app-merged-repartition', sink: 'beta-into-merged', source: 'merged-repartition-source', fromSubtopology: 1, toSubtopology: 2 },
    ]);
  });

  it('draws both writers into the one internal topic node (Mermaid, DOT)', () => {
    const mermaid = formatMermaid(description);
    const topicId = /(topic\d+)>"app-merged-repartition"\]/.exec(mermaid)![1]!;
    expect(mermaid.split('\n').filter((line) => line.endsWith(` --> ${topicId}`))).toHaveLength(2);
    const dot = formatDot(description);
    expect(dot).toContain('"node:merged-repartition-sink" -> "topic:app-merged-repartition";');
    expect(dot).toContain('"node:beta-into-merged" -> "topic:app-merged-repartition";');
    expect(dot.match(/"topic:app-merged-repartition" \[label/g)).toHaveLength(1);
  });
});

describe('sub-topologies in a loop, one internal topic with three writers (golden)', () => {
  // Shaped like a saga: requests are taken in by "intake", which shares its "balances" store with
  // "apply-commands" (one sub-topology feeding itself through "commands"); "apply-commands" sends
  // its results through "line-results" to "collect", which sends releases back into "commands";
  // refills come in through a sub-topology of their own, writing "commands" too.
  const keyOf = (value: unknown) => String(value);
  const topology = new TopologyBuilder({ applicationId: 'app' })
    .addStateStore(memoryStoreSpec('balances'))
    .addStateStore(memoryStoreSpec('request-status'))
    .addStateStore(memoryStoreSpec('sagas'))
    .addSource('requests-source', { topics: ['requests'], codec: jsonCodec })
    .addProcessor('intake', { supplier: upperCaseProcessor, stores: ['balances', 'request-status'] }, 'requests-source')
    .addSink('outcomes-sink', { topic: 'outcomes', codec: jsonCodec }, 'intake')
    .addRepartition('commands', { keyOf, codec: jsonCodec }, 'intake')
    .addProcessor('apply-commands', { supplier: upperCaseProcessor, stores: ['balances'] }, 'commands-repartition-source')
    .addRepartition('line-results', { keyOf, codec: jsonCodec }, 'apply-commands')
    .addSource('refills-source', { topics: ['refills'], codec: jsonCodec })
    .addSink('refills-into-commands', { repartition: 'commands' }, 'refills-source')
    .addSource('cancellations-source', { topics: ['cancellations'], codec: jsonCodec })
    .addProcessor('collect', { supplier: upperCaseProcessor, stores: ['sagas'] }, 'line-results-repartition-source', 'cancellations-source')
    .addSink('collected-outcomes-sink', { topic: 'outcomes', codec: jsonCodec }, 'collect')
    .addSink('releases-into-commands', { repartition: 'commands' }, 'collect')
    .build();
  const description = describeTopology(topology);

  it('numbers what feeds the loop first, then the loop from the member whose first source sorts first, and prints every writer', () => {
    expect(formatText(description)).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: refills-source (topics: [refills])\n' +
        '      --> refills-into-commands\n' +
        '    Sink: refills-into-commands (topic: app-commands-repartition)\n' +
        '      <-- refills-source\n' +
        '\n' +
        '  Sub-topology: 1\n' +
        '    Source: cancellations-source (topics: [cancellations])\n' +
        '      --> collect\n' +
        '    Source: line-results-repartition-source (topics: [app-line-results-repartition])\n' +
        '      --> collect\n' +
        '    Processor: collect (stores: [sagas])\n' +
        '      --> collected-outcomes-sink, releases-into-commands\n' +
        '      <-- cancellations-source, line-results-repartition-source\n' +
        '    Sink: collected-outcomes-sink (topic: outcomes)\n' +
        '      <-- collect\n' +
        '    Sink: releases-into-commands (topic: app-commands-repartition)\n' +
        '      <-- collect\n' +
        '\n' +
        '  Sub-topology: 2\n' +
        '    Source: requests-source (topics: [requests])\n' +
        '      --> intake\n' +
        '    Source: commands-repartition-source (topics: [app-commands-repartition])\n' +
        '      --> apply-commands\n' +
        '    Processor: intake (stores: [balances, request-status])\n' +
        '      --> commands-repartition-sink, outcomes-sink\n' +
        '      <-- requests-source\n' +
        '    Processor: apply-commands (stores: [balances])\n' +
        '      --> line-results-repartition-sink\n' +
        '      <-- commands-repartition-source\n' +
        '    Sink: commands-repartition-sink (topic: app-commands-repartition)\n' +
        '      <-- intake\n' +
        '    Sink: line-results-repartition-sink (topic: app-line-results-repartition)\n' +
        '      <-- apply-commands\n' +
        '    Sink: outcomes-sink (topic: outcomes)\n' +
        '      <-- intake\n' +
        '\n',
    );
  });

  it('lists every writer of an internal topic in JSON, loop edges back into the same or an earlier sub-topology included', () => {
    expect(JSON.parse(formatJson(description)).internalTopics).toEqual([
      { topic: 'app-commands-repartition', sink: 'commands-repartition-sink', source: 'commands-repartition-source', fromSubtopology: 2, toSubtopology: 2 },
      { topic: 'app-commands-repartition', sink: 'refills-into-commands', source: 'commands-repartition-source', fromSubtopology: 0, toSubtopology: 2 },
      { topic: 'app-commands-repartition', sink: 'releases-into-commands', source: 'commands-repartition-source', fromSubtopology: 1, toSubtopology: 2 },
      { topic: 'app-line-results-repartition', sink: 'line-results-repartition-sink', source: 'line-results-repartition-source', fromSubtopology: 2, toSubtopology: 1 },
    ]);
  });

  /** The internal topics' edges, and which sub-topology each node sits in, read back from a drawing. */
  const loopEdges = [
    'commands-repartition-sink -> app-commands-repartition',
    'refills-into-commands -> app-commands-repartition',
    'releases-into-commands -> app-commands-repartition',
    'app-commands-repartition -> commands-repartition-source',
    'line-results-repartition-sink -> app-line-results-repartition',
    'app-line-results-repartition -> line-results-repartition-source',
  ];
  const members = {
    'Sub-topology: 0': ['refills-into-commands', 'refills-source'],
    'Sub-topology: 1': ['cancellations-source', 'collect', 'collected-outcomes-sink', 'line-results-repartition-source', 'releases-into-commands'],
    'Sub-topology: 2': ['apply-commands', 'commands-repartition-sink', 'commands-repartition-source', 'intake', 'line-results-repartition-sink', 'outcomes-sink', 'requests-source'],
  };

  it('draws Mermaid with each writer in its own subgraph, edges into the one internal topic node and from it back round the loop', () => {
    const mermaid = formatMermaid(description);
    const labels = new Map<string, string>();
    const inSubgraph = new Map<string, string[]>();
    let subgraph: string | undefined;
    for (const line of mermaid.split('\n')) {
      const opened = /^ {2}subgraph \w+\["(.+)"\]$/.exec(line);
      if (opened) {
        subgraph = opened[1]!;
        inSubgraph.set(subgraph, []);
        continue;
      }
      if (line === '  end') subgraph = undefined;
      const node = /^ +(\w+)\(?\[?"?(?:\(\[)?"?(?:Source|Processor|Sink): ([^"]+)"/.exec(line);
      if (node) {
        labels.set(node[1]!, node[2]!);
        if (subgraph) inSubgraph.get(subgraph)!.push(node[2]!);
      }
      const topic = /^ {2}(topic\d+)>"(.+)"\]$/.exec(line);
      if (topic) labels.set(topic[1]!, topic[2]!);
    }
    const edges = mermaid
      .split('\n')
      .map((line) => / {2}(\w+) --> (\w+)$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => `${labels.get(match[1]!)} -> ${labels.get(match[2]!)}`);
    expect(edges).toEqual(expect.arrayContaining(loopEdges));
    expect(Object.fromEntries([...inSubgraph].map(([name, nodes]) => [name, nodes.sort()]))).toEqual(members);
    expect(mermaid.match(/>"app-commands-repartition"\]/g)).toHaveLength(1);
  });

  it('draws DOT with each writer in its own cluster, edges into the one internal topic node and from it back round the loop', () => {
    const dot = formatDot(description);
    for (const edge of loopEdges) {
      const [from, to] = edge.split(' -> ') as [string, string];
      const id = (name: string) => (name.startsWith('app-') ? `topic:${name}` : `node:${name}`);
      expect(dot).toContain(`  "${id(from)}" -> "${id(to)}";`);
    }
    const clusters = Object.fromEntries(
      [...dot.matchAll(/subgraph cluster_\d+ \{\n {4}label="(.+)";\n((?: {4}.+\n)*?) {2}\}/g)].map(([, label, body]) => [
        label,
        [...body!.matchAll(/"node:([^"]+)"/g)].map((match) => match[1]!).sort(),
      ]),
    );
    expect(clusters).toEqual(members);
    expect(dot.match(/"topic:app-commands-repartition" \[label/g)).toHaveLength(1);
  });
});

describe('renderImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'topology-render-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says clearly that Graphviz is missing', async () => {
    const rendering = renderImage('digraph {}', 'svg', join(dir, 'x.svg'), { dotBinary: join(dir, 'no-such-dot') });
    await expect(rendering).rejects.toBeInstanceOf(GraphvizMissingError);
    await expect(rendering).rejects.toThrow(/not installed/);
  });

  const hasDot = spawnSync('dot', ['-V']).status === 0;
  (hasDot ? it : it.skip)('renders SVG with the dot binary when installed', async () => {
    const out = join(dir, 'topology.svg');
    await renderImage(formatDot(describeTopology(inventoryTopology())), 'svg', out);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
  });
});
