/**
 * Sub-topologies, as Kafka Streams forms them: the connected components of the graph, where
 * processors sharing a state store count as connected (they must run in the same task to share
 * it) and a repartition's sink and source do not (its internal topic lies between them).
 *
 * Kafka Streams numbers them by their source nodes' names, which its DSL generates in creation
 * order, so a sub-topology comes after the ones feeding it. Here names are chosen freely, so
 * the order is made explicit: a sub-topology comes after every sub-topology whose repartition
 * feeds it, and otherwise by its first source name.
 */

/** What grouping needs of a topology (the builder's Topology has it). */
export interface SubtopologyGraph {
  readonly nodes: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly parents: readonly string[]; readonly stores?: readonly string[]; readonly topics?: readonly string[] }>;
  /** `writers`: every sink writing the repartition's topic; each feeds the source's sub-topology from its own. */
  readonly repartitions: ReadonlyArray<{ readonly name: string; readonly writers: readonly string[]; readonly source: string }>;
}

export interface Subtopology {
  id: number;
  /** Its node names, in the order they were added. */
  nodes: string[];
  /** The topics its sources read (internal topics included). */
  sourceTopics: string[];
}

/** The sub-topologies, upstream first (see the module comment). */
export function subtopologiesOf(topology: SubtopologyGraph): Subtopology[] {
  return orderComponents(topology).ordered.map((names, id) => ({
    id,
    nodes: topology.nodes.filter((node) => names.has(node.name)).map((node) => node.name),
    sourceTopics: topology.nodes.filter((node) => names.has(node.name) && node.kind === 'source').flatMap((node) => [...(node.topics ?? [])]),
  }));
}

/** Repartitions whose records would come back to the sub-topology that wrote them. */
export function subtopologyProblems(topology: SubtopologyGraph): string[] {
  const { componentOf, looping } = orderComponents(topology);
  return topology.repartitions.flatMap((repartition) => {
    const to = componentOf(repartition.source);
    const looped = repartition.writers.filter((writer) => looping.has(componentOf(writer)) && looping.has(to));
    if (looped.length === 0) return [];
    return looped.some((writer) => componentOf(writer) === to)
      ? [`repartition "${repartition.name}" feeds the sub-topology that writes it`]
      : [`repartition "${repartition.name}" is part of a loop of sub-topologies`];
  });
}

/** Java's String.compareTo order (UTF-16 code units), which is also JavaScript's `<`. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Ordering {
  ordered: Array<Set<string>>;
  /** Roots of components on a loop of repartitions (left out of `ordered`'s proper order). */
  looping: Set<string>;
  componentOf: (name: string) => string;
}

function orderComponents(topology: SubtopologyGraph): Ordering {
  const componentOf = groupNodes(topology);
  const members = new Map<string, Set<string>>();
  for (const node of topology.nodes) {
    const root = componentOf(node.name);
    if (!members.has(root)) members.set(root, new Set());
    members.get(root)!.add(node.name);
  }
  const firstSource = new Map<string, string>();
  for (const node of topology.nodes) {
    if (node.kind !== 'source') continue;
    const root = componentOf(node.name);
    const known = firstSource.get(root);
    if (known === undefined || compareNames(node.name, known) < 0) firstSource.set(root, node.name);
  }
  const byFirstSource = (a: string, b: string) => compareNames(firstSource.get(a) ?? a, firstSource.get(b) ?? b);

  const feeds = new Map<string, Set<string>>([...members.keys()].map((root) => [root, new Set<string>()]));
  const inbound = new Map<string, number>([...members.keys()].map((root) => [root, 0]));
  for (const repartition of topology.repartitions) {
    const to = componentOf(repartition.source);
    for (const writer of repartition.writers) {
      const from = componentOf(writer);
      if (feeds.get(from)!.has(to)) continue;
      feeds.get(from)!.add(to);
      inbound.set(to, inbound.get(to)! + 1);
    }
  }
  const ordered: string[] = [];
  const ready = [...members.keys()].filter((root) => inbound.get(root) === 0);
  while (ready.length > 0) {
    ready.sort(byFirstSource);
    const next = ready.shift()!;
    ordered.push(next);
    for (const downstream of feeds.get(next)!) {
      inbound.set(downstream, inbound.get(downstream)! - 1);
      if (inbound.get(downstream) === 0) ready.push(downstream);
    }
  }
  const looping = new Set([...members.keys()].filter((root) => !ordered.includes(root)));
  return { ordered: [...ordered, ...[...looping].sort(byFirstSource)].map((root) => members.get(root)!), looping, componentOf };
}

/** Union-find over parent links and shared stores; returns each node's component root. */
function groupNodes(topology: SubtopologyGraph): (name: string) => string {
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
    for (const parent of node.parents) if (root.has(parent)) union(node.name, parent);
    for (const store of node.stores ?? []) {
      const other = storeUser.get(store);
      if (other === undefined) storeUser.set(store, node.name);
      else union(node.name, other);
    }
  }
  return find;
}
