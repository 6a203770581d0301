/**
 * A read-only view of a topology, shaped like Kafka Streams' TopologyDescription: its
 * sub-topologies (topology/subtopologies.ts: split at repartition topics, joined by shared
 * stores), their nodes, the stores and the internal topics between sub-topologies.
 */
import type { Topology, TopologyNode } from '../builder.ts';
import { compareNames, subtopologiesOf } from '../subtopologies.ts';

export interface SourceDescription {
  type: 'source';
  name: string;
  topics: string[];
  successors: string[];
}

export interface ProcessorDescription {
  type: 'processor';
  name: string;
  stores: string[];
  predecessors: string[];
  successors: string[];
}

export interface SinkDescription {
  type: 'sink';
  name: string;
  topic: string;
  predecessors: string[];
}

export type NodeDescription = SourceDescription | ProcessorDescription | SinkDescription;

export interface SubtopologyDescription {
  id: number;
  /** In Kafka Streams' print order: largest downstream sub-graph first, then by name. */
  nodes: NodeDescription[];
}

export interface StoreDescription {
  name: string;
  /** Processors that declare the store. */
  usedBy: string[];
}

/**
 * A repartition topic as one sink writes it: read by its source in a later sub-topology (or in
 * the writer's own, or an earlier one, on a loop). A topic with several writers is listed once
 * per writer, its own sink first.
 */
export interface InternalTopicDescription {
  topic: string;
  /** Absent: the partition count the app gives its own topics. */
  partitions?: number;
  /** The sink writing it: the repartition's own, or one more writer. */
  sink: string;
  source: string;
  fromSubtopology: number;
  toSubtopology: number;
}

export interface TopologyDescription {
  subtopologies: SubtopologyDescription[];
  stores: StoreDescription[];
  internalTopics: InternalTopicDescription[];
}

export function describeTopology(topology: Topology): TopologyDescription {
  const byName = new Map(topology.nodes.map((node) => [node.name, node]));
  const sizes = downstreamSizes(topology.nodes, byName);
  const bySizeThenName = (a: string, b: string) => sizes.get(b)! - sizes.get(a)! || compareNames(a, b);

  const grouped = subtopologiesOf(topology);
  const subtopologies = grouped.map(({ id, nodes }) => ({
    id,
    nodes: [...nodes].sort(bySizeThenName).map((name) => describeNode(byName.get(name)!, bySizeThenName)),
  }));
  const stores = topology.stores.map((store) => ({
    name: store.name,
    usedBy: topology.nodes.filter((node) => node.kind === 'processor' && node.stores.includes(store.name)).map((node) => node.name),
  }));
  const subtopologyOf = (name: string) => grouped.find((subtopology) => subtopology.nodes.includes(name))!.id;
  const internalTopics = topology.repartitions.flatMap(({ topic, partitions, writers, source }) =>
    writers.map((sink) => ({
      topic,
      ...(partitions === undefined ? {} : { partitions }),
      sink,
      source,
      fromSubtopology: subtopologyOf(sink),
      toSubtopology: subtopologyOf(source),
    })),
  );
  return { subtopologies, stores, internalTopics };
}

function describeNode(node: TopologyNode, order: (a: string, b: string) => number): NodeDescription {
  const successors = [...node.children].sort(order);
  const predecessors = [...node.parents].sort(order);
  switch (node.kind) {
    case 'source':
      return { type: 'source', name: node.name, topics: [...node.topics], successors };
    case 'processor':
      return { type: 'processor', name: node.name, stores: [...node.stores], predecessors, successors };
    case 'sink':
      return { type: 'sink', name: node.name, topic: node.topic, predecessors };
  }
}

/**
 * Kafka Streams' node "size": the node plus, recursively, its successors' sizes (a node
 * reachable along two paths counts twice, as there).
 */
function downstreamSizes(nodes: readonly TopologyNode[], byName: Map<string, TopologyNode>): Map<string, number> {
  const sizes = new Map<string, number>();
  const sizeOf = (name: string): number => {
    const known = sizes.get(name);
    if (known !== undefined) return known;
    const size = 1 + byName.get(name)!.children.reduce((sum, child) => sum + sizeOf(child), 0);
    sizes.set(name, size);
    return size;
  };
  for (const node of nodes) sizeOf(node.name);
  return sizes;
}

export function formatJson(description: TopologyDescription): string {
  return `${JSON.stringify(description, null, 2)}\n`;
}
