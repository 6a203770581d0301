/**
 * Sub-topologies, as Kafka Streams forms them: the connected components of the graph, where
 * processors sharing a state store count as connected (they must run in the same task to share
 * it) and a repartition's sinks and source do not (its internal topic lies between them).
 *
 * Kafka Streams numbers them by their source nodes' names, which its DSL generates in creation
 * order, so a sub-topology comes after the ones feeding it. Here names are chosen freely, so
 * the order is made explicit: a sub-topology comes after every sub-topology whose repartition
 * feeds it, and otherwise by its first source name.
 *
 * Repartitions may form loops, as topics may in Kafka Streams (a sub-topology feeding itself,
 * or two feeding each other; it is the processors' job not to loop forever). Then "after every
 * one feeding it" cannot hold for all, and the rule is applied to the loops as wholes: the
 * sub-topologies on one loop (a strongly connected set) come together, after every sub-topology
 * feeding the loop, loops and lone sub-topologies ordered by their first source name; within a
 * loop the one whose first source name sorts first comes first, then each next is one fed only
 * by those already placed if there is one, otherwise the one whose first source name sorts
 * first. Without loops this is the order above, unchanged.
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
  return orderComponents(topology).map((names, id) => ({
    id,
    nodes: topology.nodes.filter((node) => names.has(node.name)).map((node) => node.name),
    sourceTopics: topology.nodes.filter((node) => names.has(node.name) && node.kind === 'source').flatMap((node) => [...(node.topics ?? [])]),
  }));
}

/** Java's String.compareTo order (UTF-16 code units), which is also JavaScript's `<`. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The components' node sets, in id order. */
function orderComponents(topology: SubtopologyGraph): Array<Set<string>> {
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
  const nameOf = (root: string) => firstSource.get(root) ?? root;
  const byFirstSource = (a: string, b: string) => compareNames(nameOf(a), nameOf(b));

  const feeds = new Map<string, Set<string>>([...members.keys()].map((root) => [root, new Set<string>()]));
  for (const repartition of topology.repartitions) {
    for (const writer of repartition.writers) feeds.get(componentOf(writer))!.add(componentOf(repartition.source));
  }
  const roots = [...members.keys()].sort(byFirstSource);
  const loops = stronglyConnected(roots, feeds);
  const loopOf = new Map(loops.flatMap((loop, i) => loop.map((root) => [root, i] as const)));
  const loopName = loops.map((loop) => loop.map(nameOf).sort(compareNames)[0]!);

  // The loops (lone sub-topologies included) in upstream order: Kahn's algorithm, ready ones by name.
  const inbound = loops.map(() => 0);
  const loopFeeds = loops.map(() => new Set<number>());
  for (const [from, targets] of feeds) {
    for (const to of targets) {
      const [a, b] = [loopOf.get(from)!, loopOf.get(to)!];
      if (a === b || loopFeeds[a]!.has(b)) continue;
      loopFeeds[a]!.add(b);
      inbound[b]!++;
    }
  }
  const ordered: string[] = [];
  const ready = loops.map((_, i) => i).filter((i) => inbound[i] === 0);
  while (ready.length > 0) {
    ready.sort((a, b) => compareNames(loopName[a]!, loopName[b]!));
    const next = ready.shift()!;
    ordered.push(...orderWithinLoop(loops[next]!, feeds, byFirstSource));
    for (const downstream of loopFeeds[next]!) if (--inbound[downstream]! === 0) ready.push(downstream);
  }
  return ordered.map((root) => members.get(root)!);
}

/** A loop's sub-topologies: each next one fed only by those placed already if there is one, else the first by name. */
function orderWithinLoop(loop: string[], feeds: ReadonlyMap<string, ReadonlySet<string>>, byFirstSource: (a: string, b: string) => number): string[] {
  const unplaced = new Set(loop);
  const ordered: string[] = [];
  while (unplaced.size > 0) {
    const candidates = [...unplaced];
    const free = candidates.filter((to) => !candidates.some((from) => from !== to && feeds.get(from)!.has(to)));
    const next = (free.length > 0 ? free : candidates).sort(byFirstSource)[0]!;
    unplaced.delete(next);
    ordered.push(next);
  }
  return ordered;
}

/** Tarjan's strongly connected components; each lists its members in the order `roots` gives them. */
function stronglyConnected(roots: string[], feeds: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const position = new Map(roots.map((root, i) => [root, i]));
  const visit = (root: string) => {
    index.set(root, index.size);
    low.set(root, index.get(root)!);
    stack.push(root);
    onStack.add(root);
    for (const next of feeds.get(root)!) {
      if (!index.has(next)) {
        visit(next);
        low.set(root, Math.min(low.get(root)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(root, Math.min(low.get(root)!, index.get(next)!));
    }
    if (low.get(root) !== index.get(root)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== root);
    components.push(component.sort((a, b) => position.get(a)! - position.get(b)!));
  };
  for (const root of roots) if (!index.has(root)) visit(root);
  return components;
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
