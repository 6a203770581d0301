/**
 * The console graph's layout (app/console/page/graph-layout.js) of the reference pipeline's
 * own description: every node placed once, inside its sub-topology's cluster, no two boxes
 * overlapping, the internal topics outside the clusters between their writers and reader.
 */
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error: a plain browser module of the page, without type declarations.
import { layoutTopology, topicNodeId, wrapName } from '../../../app/console/page/graph-layout.js';
import { referenceTopology } from '../../../app/processor-app.ts';
import { loadConfig } from '../../../core/config.ts';
import { memoryStores } from '../../../processors/reference-pipeline.ts';
import { describeTopology } from '../../../topology/describe/index.ts';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface PlacedNode extends Box {
  id: string;
  name: string;
  type: string;
  subtopology: number | null;
}
interface Layout extends Box {
  nodes: PlacedNode[];
  clusters: Array<Box & { id: number }>;
  edges: Array<{ from: string; to: string; kind: string; points: Array<{ x: number; y: number }> }>;
}

const description = describeTopology(referenceTopology(loadConfig({}, {}), memoryStores()));
const layout = layoutTopology(JSON.parse(JSON.stringify(description))) as Layout;

const inside = (inner: Box, outer: Box) =>
  inner.x - inner.width / 2 >= outer.x - outer.width / 2 && inner.x + inner.width / 2 <= outer.x + outer.width / 2 && inner.y - inner.height / 2 >= outer.y - outer.height / 2 && inner.y + inner.height / 2 <= outer.y + outer.height / 2;
const overlap = (a: Box, b: Box) => Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height;

describe('the console graph layout', () => {
  it('places every node of the description once, inside its own sub-topology cluster', () => {
    const names = description.subtopologies.flatMap((subtopology) => subtopology.nodes.map((node) => node.name));
    const placed = layout.nodes.filter((node) => node.type !== 'topic');
    expect(placed.map((node) => node.name).sort()).toEqual([...names].sort());
    for (const node of placed) {
      expect([node.x, node.y, node.width, node.height].every(Number.isFinite)).toBe(true);
      const cluster = layout.clusters.find((each) => each.id === node.subtopology)!;
      expect({ node: node.name, inside: inside(node, cluster) }).toEqual({ node: node.name, inside: true });
    }
    expect(layout.clusters.map((cluster) => cluster.id).sort()).toEqual(description.subtopologies.map((subtopology) => subtopology.id).sort());
  });

  it('draws each internal topic once, outside every cluster, fed by its sinks and feeding its source', () => {
    const topics = [...new Set(description.internalTopics.map((each) => each.topic))];
    const topicNodes = layout.nodes.filter((node) => node.type === 'topic');
    expect(topicNodes.map((node) => node.name).sort()).toEqual(topics.sort());
    for (const node of topicNodes) for (const cluster of layout.clusters) expect(overlap(node, cluster)).toBe(false);
    for (const internal of description.internalTopics) {
      expect(layout.edges).toContainEqual(expect.objectContaining({ from: internal.sink, to: topicNodeId(internal.topic), kind: 'repartition' }));
      expect(layout.edges).toContainEqual(expect.objectContaining({ from: topicNodeId(internal.topic), to: internal.source, kind: 'repartition' }));
    }
  });

  it('keeps every box apart and within the picture', () => {
    for (const [index, a] of layout.nodes.entries()) {
      for (const b of layout.nodes.slice(index + 1)) expect({ pair: [a.name, b.name], overlap: overlap(a, b) }).toEqual({ pair: [a.name, b.name], overlap: false });
    }
    for (const box of [...layout.nodes, ...layout.clusters]) {
      expect(box.x - box.width / 2).toBeGreaterThanOrEqual(0);
      expect(box.y - box.height / 2).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width / 2).toBeLessThanOrEqual(layout.width);
      expect(box.y + box.height / 2).toBeLessThanOrEqual(layout.height);
    }
  });

  it('draws every record edge of the description between its two nodes', () => {
    const successors = description.subtopologies.flatMap((subtopology) => subtopology.nodes.flatMap((node) => ('successors' in node ? node.successors.map((to) => ({ from: node.name, to })) : [])));
    const recordEdges = layout.edges.filter((edge) => edge.kind === 'record');
    expect(recordEdges.map(({ from, to }) => `${from}->${to}`).sort()).toEqual(successors.map(({ from, to }) => `${from}->${to}`).sort());
    for (const edge of layout.edges) expect(edge.points.length).toBeGreaterThanOrEqual(2);
  });

  it('wraps long names at their hyphens', () => {
    expect(wrapName('product-commands-repartition-source')).toEqual(['product-commands-', 'repartition-source']);
    expect(wrapName('order-saga')).toEqual(['order-saga']);
    expect(wrapName('abcdefghijklmnopqrstuvwxyz', 10)).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxyz']);
  });
});
