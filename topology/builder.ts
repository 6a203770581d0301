/**
 * The topology model: named sources, processors and sinks wired by parent names, plus the
 * state stores processors use. Like Kafka Streams' `Topology`, a built topology is plain
 * data — it runs nothing; topology/runtime/ turns it into an RxJS pipeline per partition.
 */
import type { Codec } from '../core/codec.ts';
import { StreamError } from '../core/errors.ts';
import type { StoreTable } from '../core/store-table.ts';
import type { TopicPartition } from '../kafka/port.ts';
import type { Processor } from './processor-api.ts';

/**
 * Where a store's durable contents live (PostgreSQL in production, a Map in the test driver).
 * The runtime keeps a per-partition cache in front of it: `restore` fills it when the
 * partition is assigned, `load` fetches the prefetch misses before each micro-batch.
 */
export interface StateStoreSpec<K = unknown, V = unknown> {
  name: string;
  restore?(partition: TopicPartition): Promise<Iterable<[K, V]>>;
  /**
   * Values of the given keys; a key missing from the result is absent now. Absence is not
   * cached: a key added to the backend while running (a new catalogue entry) is found at the next
   * batch that needs it.
   */
  load(keys: K[]): Promise<Map<K, V>>;
  /**
   * Whether committed values stay cached between batches (default true). A store over an
   * unbounded key space (e.g. one entry per request) sets false, so its cache lives for one
   * batch only and memory stays flat however many keys pass through.
   */
  cacheAcrossBatches?: boolean;
  /**
   * How the store maps onto a table, when it does (core/store-table.ts): its PostgreSQL backend
   * is built from it, and the test driver's memory twin follows it too.
   */
  table?: StoreTable<K, V> | undefined;
}

/**
 * Keys a record will touch, as an object of store name -> array of keys, so a batch's reads
 * are loaded in one round trip. Typed `object` so interfaces qualify (an index signature
 * would refuse them); the runtime checks the shape.
 */
export type PrefetchKeys<In> = (value: In) => object;

/**
 * How a record's Kafka key derives from its decoded value (e.g. `String(event.accountId)`).
 * A record whose key differs is a dead letter: its partition does not own the key its value
 * names, so processing it would have two partitions write one key.
 */
export type KeyOf<T> = (value: T) => string | null;

export interface SourceOptions<T = unknown> {
  topics: string[];
  codec: Codec<T>;
  /** When given, every record's key is checked against its value (see KeyOf). */
  keyOf?: KeyOf<T>;
}

export interface ProcessorOptions<In = unknown, Out = unknown> {
  supplier: () => Processor<In, Out>;
  stores?: string[];
  /** Only for processors fed directly by sources: it sees the decoded source value. */
  prefetch?: PrefetchKeys<In>;
}

export interface SinkOptions<T = unknown> {
  topic: string;
  codec: Codec<T>;
}

export interface SourceNode {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  readonly codec: Codec<unknown>;
  readonly keyOf: KeyOf<unknown> | undefined;
  readonly parents: readonly string[];
  /** In the order they were added: the order `forward` visits them. */
  readonly children: readonly string[];
}

export interface ProcessorNode {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: () => Processor<unknown, unknown>;
  readonly stores: readonly string[];
  readonly prefetch: PrefetchKeys<unknown> | undefined;
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

export interface SinkNode {
  readonly kind: 'sink';
  readonly name: string;
  readonly topic: string;
  readonly codec: Codec<unknown>;
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

export interface Topology {
  /** Every node, in the order it was added. */
  readonly nodes: readonly TopologyNode[];
  readonly stores: readonly StateStoreSpec[];
  /** Which source node reads each topic. */
  readonly sourceByTopic: ReadonlyMap<string, SourceNode>;
}

type PendingNode =
  | { kind: 'source'; name: string; options: SourceOptions }
  | { kind: 'processor'; name: string; options: ProcessorOptions; parents: string[] }
  | { kind: 'sink'; name: string; options: SinkOptions; parents: string[] };

export class TopologyBuilder {
  readonly #nodes: PendingNode[] = [];
  readonly #stores: StateStoreSpec[] = [];

  addSource<T>(name: string, options: SourceOptions<T>): this {
    this.#nodes.push({ kind: 'source', name, options: options as unknown as SourceOptions });
    return this;
  }

  addProcessor<In, Out>(name: string, options: ProcessorOptions<In, Out>, ...parentNames: string[]): this {
    this.#nodes.push({ kind: 'processor', name, options: options as unknown as ProcessorOptions, parents: parentNames });
    return this;
  }

  addStateStore<K, V>(spec: StateStoreSpec<K, V>): this {
    this.#stores.push(spec as StateStoreSpec);
    return this;
  }

  addSink<T>(name: string, options: SinkOptions<T>, ...parentNames: string[]): this {
    this.#nodes.push({ kind: 'sink', name, options: options as SinkOptions, parents: parentNames });
    return this;
  }

  /** Validates the whole graph and reports every problem at once. */
  build(): Topology {
    const problems = findProblems(this.#nodes, this.#stores);
    if (problems.length > 0) {
      throw new StreamError('TOPOLOGY_INVALID', `invalid topology: ${problems.join('; ')}`, { context: { problems } });
    }
    return freeze(this.#nodes, this.#stores);
  }
}

function parentsOf(node: PendingNode): string[] {
  return node.kind === 'source' ? [] : node.parents;
}

function duplicates(names: string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) (seen.has(name) ? repeated : seen).add(name);
  return [...repeated];
}

function findProblems(nodes: PendingNode[], stores: StateStoreSpec[]): string[] {
  const problems: string[] = [];
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const storeNames = new Set(stores.map((store) => store.name));

  if (!nodes.some((node) => node.kind === 'source')) problems.push('no source node');
  for (const node of nodes) if (!node.name) problems.push(`a ${node.kind} node has an empty name`);
  for (const name of duplicates(nodes.map((node) => node.name))) problems.push(`duplicate node name "${name}"`);
  for (const store of stores) if (!store.name) problems.push('a state store has an empty name');
  for (const name of duplicates(stores.map((store) => store.name))) problems.push(`duplicate state store name "${name}"`);

  const topicOwner = new Map<string, string>();
  for (const node of nodes) {
    if (node.kind === 'source') {
      const topics = node.options.topics ?? [];
      if (topics.length === 0) problems.push(`source "${node.name}" has no topics`);
      for (const topic of topics) {
        if (!topic) problems.push(`source "${node.name}" names an empty topic`);
        const owner = topicOwner.get(topic);
        if (owner !== undefined && owner !== node.name) problems.push(`topic "${topic}" is read by both "${owner}" and "${node.name}"`);
        else topicOwner.set(topic, node.name);
      }
      continue;
    }
    if (node.parents.length === 0) problems.push(`${node.kind} "${node.name}" has no parent`);
    for (const parent of duplicates(node.parents)) problems.push(`${node.kind} "${node.name}" names parent "${parent}" twice`);
    for (const parentName of node.parents) {
      const parent = byName.get(parentName);
      if (parent === undefined) problems.push(`${node.kind} "${node.name}" has unknown parent "${parentName}"`);
      else if (parent.kind === 'sink') problems.push(`${node.kind} "${node.name}" has sink "${parentName}" as parent (sinks have no children)`);
    }
    if (node.kind === 'sink' && !node.options.topic) problems.push(`sink "${node.name}" has no topic`);
    if (node.kind === 'processor') {
      for (const store of node.options.stores ?? []) {
        if (!storeNames.has(store)) problems.push(`processor "${node.name}" uses unknown store "${store}"`);
      }
      const nonSourceParents = node.parents.filter((parent) => byName.get(parent)?.kind !== 'source');
      if (node.options.prefetch && nonSourceParents.length > 0) {
        problems.push(`processor "${node.name}" has prefetch but is fed by non-source "${nonSourceParents.join('", "')}"`);
      }
    }
  }

  const cycle = findCycle(nodes, byName);
  if (cycle) problems.push(`cycle ${cycle.join(' -> ')}`);
  for (const name of unreachableFromSources(nodes, byName)) problems.push(`node "${name}" is not reachable from any source`);
  return problems;
}

/** Depth-first search over parent links; returns one cycle as a path of names. */
function findCycle(nodes: PendingNode[], byName: Map<string, PendingNode>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const seen = state.get(name);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...path.slice(path.indexOf(name)), name].reverse();
    const node = byName.get(name);
    if (node === undefined) return undefined;
    state.set(name, 'visiting');
    path.push(name);
    for (const parent of parentsOf(node)) {
      const cycle = visit(parent);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.name);
    if (cycle) return cycle;
  }
  return undefined;
}

function unreachableFromSources(nodes: PendingNode[], byName: Map<string, PendingNode>): string[] {
  const children = childrenByName(nodes, byName);
  const reached = new Set<string>();
  const queue = nodes.filter((node) => node.kind === 'source').map((node) => node.name);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    queue.push(...(children.get(name) ?? []));
  }
  return nodes.filter((node) => node.name && !reached.has(node.name)).map((node) => node.name);
}

function childrenByName(nodes: PendingNode[], byName: Map<string, PendingNode>): Map<string, string[]> {
  const children = new Map<string, string[]>(nodes.map((node) => [node.name, []]));
  for (const node of nodes) {
    for (const parent of parentsOf(node)) if (byName.has(parent)) children.get(parent)!.push(node.name);
  }
  return children;
}

function freeze(nodes: PendingNode[], stores: StateStoreSpec[]): Topology {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const children = childrenByName(nodes, byName);
  const built = nodes.map((node) => freezeNode(node, Object.freeze([...(children.get(node.name) ?? [])])));
  const sourceByTopic = new Map<string, SourceNode>();
  for (const node of built) if (node.kind === 'source') for (const topic of node.topics) sourceByTopic.set(topic, node);
  return Object.freeze({ nodes: Object.freeze(built), stores: Object.freeze([...stores]), sourceByTopic });
}

function freezeNode(node: PendingNode, nodeChildren: readonly string[]): TopologyNode {
  switch (node.kind) {
    case 'source':
      return Object.freeze({
        kind: 'source',
        name: node.name,
        topics: Object.freeze([...node.options.topics]),
        codec: node.options.codec,
        keyOf: node.options.keyOf,
        parents: Object.freeze([]),
        children: nodeChildren,
      });
    case 'processor':
      return Object.freeze({
        kind: 'processor',
        name: node.name,
        supplier: node.options.supplier,
        stores: Object.freeze([...(node.options.stores ?? [])]),
        prefetch: node.options.prefetch,
        parents: Object.freeze([...node.parents]),
        children: nodeChildren,
      });
    case 'sink':
      return Object.freeze({
        kind: 'sink',
        name: node.name,
        topic: node.options.topic,
        codec: node.options.codec,
        parents: Object.freeze([...node.parents]),
        children: nodeChildren,
      });
  }
}

/** Looks a node up by name; throws when the topology has no such node (a programmer error). */
export function nodeByName(topology: Topology, name: string): TopologyNode {
  const node = topology.nodes.find((candidate) => candidate.name === name);
  if (node === undefined) throw new StreamError('TOPOLOGY_INVALID', `topology has no node "${name}"`);
  return node;
}

/** Every topic a topology reads: what the consumer group subscribes to. */
export function sourceTopics(topology: Topology): string[] {
  return [...topology.sourceByTopic.keys()];
}
