/**
 * A read-only view of a topology, shaped like Kafka Streams' TopologyDescription:
 * sub-topologies are the connected components of the graph, where processors sharing a
 * state store count as connected (they must run in the same task to share it).
 */
import type { Topology, TopologyNode } from '../builder.ts';

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

export interface TopologyDescription {
  subtopologies: SubtopologyDescription[];
  stores: StoreDescription[];
}

export function describeTopology(topology: Topology): TopologyDescription {
  const byName = new Map(topology.nodes.map((node) => [node.name, node]));
  const sizes = downstreamSizes(topology.nodes, byName);
  const bySizeThenName = (a: string, b: string) => sizes.get(b)! - sizes.get(a)! || compareNames(a, b);

  const subtopologies = connectedComponents(topology).map((names, id) => ({
    id,
    nodes: [...names].sort(bySizeThenName).map((name) => describeNode(byName.get(name)!, bySizeThenName)),
  }));
  const stores = topology.stores.map((store) => ({
    name: store.name,
    usedBy: topology.nodes.filter((node) => node.kind === 'processor' && node.stores.includes(store.name)).map((node) => node.name),
  }));
  return { subtopologies, stores };
}

/** Java's String.compareTo order (UTF-16 code units), which is also JavaScript's `<`. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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

/**
 * Groups nodes linked by an edge or a shared store. Ids follow Kafka Streams: components
 * are numbered by their sources in name order.
 */
function connectedComponents(topology: Topology): Array<Set<string>> {
  const root = new Map<string, string>(topology.nodes.map((node) => [node.name, node.name]));
  const find = (name: string): string => {
    let current = name;
    while (root.get(current) !== current) current = root.get(current)!;
    root.set(name, current);
    return current;
  };
  const union = (a: string, b: string) => root.set(find(a), find(b));

  const storeUser = new Map<string, string>();
  for (const node of topology.nodes) {
    for (const parent of node.parents) union(node.name, parent);
    if (node.kind !== 'processor') continue;
    for (const store of node.stores) {
      const other = storeUser.get(store);
      if (other === undefined) storeUser.set(store, node.name);
      else union(node.name, other);
    }
  }

  const components = new Map<string, Set<string>>();
  const sourcesFirst = [
    ...topology.nodes.filter((node) => node.kind === 'source').sort((a, b) => compareNames(a.name, b.name)),
    ...topology.nodes.filter((node) => node.kind !== 'source'),
  ];
  for (const node of sourcesFirst) {
    const key = find(node.name);
    if (!components.has(key)) components.set(key, new Set());
    components.get(key)!.add(node.name);
  }
  return [...components.values()];
}

export function formatJson(description: TopologyDescription): string {
  return `${JSON.stringify(description, null, 2)}\n`;
}
