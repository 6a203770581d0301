/**
 * The topology model: named sources, processors and sinks wired by parent names, plus the
 * state stores processors use, and repartitions: a sink to an internal topic and a source
 * reading it, which split the graph into sub-topologies. Like Kafka Streams' `Topology`, a
 * built topology is plain data — it runs nothing; topology/runtime/ turns it into an RxJS
 * pipeline per source topic partition.
 *
 * A sink writes either a topic of the user's, `addSink(name, { topic, codec }, ...parents)`, or
 * a repartition's internal topic, `addSink(name, { repartition: '<name>' }, ...parents)`: then it
 * re-keys with the repartition's keyOf, encodes with its codec and names its records' origin
 * as the repartition's own sink does, so one internal topic may have several writers (other
 * sub-topologies, or the one it feeds: a loop). Such a sink belongs to its parents'
 * sub-topology; it joins none of the other writers' to it.
 *
 * Loops through repartitions are allowed, as loops through topics are in Kafka Streams: a
 * repartition may feed the sub-topology that writes it (its two sides sharing a store, or a
 * writer downstream of its source), and sub-topologies may feed each other. Records then come
 * round again; it is the processors' job to stop forwarding them (topology/subtopologies.ts says
 * how such sub-topologies are numbered).
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

/** A sink to a topic of the user's (never an internal one). */
export interface TopicSinkOptions<T = unknown> {
  topic: string;
  codec: Codec<T>;
  repartition?: never;
}

/**
 * A sink into a repartition's internal topic, as one more writer beside the repartition's own
 * sink: topic, key and codec are the repartition's (given once, to addRepartition).
 */
export interface RepartitionSinkOptions {
  /** The name given to addRepartition (before or after this sink is added). */
  repartition: string;
  topic?: never;
  codec?: never;
}

export type SinkOptions<T = unknown> = TopicSinkOptions<T> | RepartitionSinkOptions;

/**
 * A repartition re-keys records and moves them through an internal topic, so that records
 * of one new key meet in one partition of the next sub-topology.
 */
export interface RepartitionOptions<T = unknown> {
  /** The new key, derived from the value; the downstream source checks it too. */
  keyOf: KeyOf<T>;
  /** Writes and reads the internal topic. */
  codec: Codec<T>;
  /** Partitions of the internal topic; by default the count the app gives its own topics. */
  partitions?: number;
}

export interface TopologyBuilderOptions {
  /**
   * Prefix of internal topic names (`<applicationId>-<name>-repartition`), like Kafka Streams'
   * application.id; the app uses its consumer group. Needed only by a topology with a repartition.
   */
  applicationId?: string;
}

export interface SourceNode {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  readonly codec: Codec<unknown>;
  readonly keyOf: KeyOf<unknown> | undefined;
  /** The repartition whose internal topic it reads, if it is one's downstream half. */
  readonly repartition: string | undefined;
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
  /** The repartition whose internal topic it writes (as its own sink or one more writer): it re-keys with the repartition's keyOf. */
  readonly repartition: string | undefined;
  readonly keyOf: KeyOf<unknown> | undefined;
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** A repartition's internal topic and the two nodes either side of it. */
export interface RepartitionTopic {
  readonly name: string;
  readonly topic: string;
  /** Undefined: the partition count the app gives its own topics. */
  readonly partitions: number | undefined;
  /** Its own sink (`<name>-repartition-sink`), at the end of the sub-topology that feeds it. */
  readonly sink: string;
  /** Every sink writing the topic: its own sink first, then the others in the order they were added. */
  readonly writers: readonly string[];
  /** Reads it, at the start of the downstream sub-topology. */
  readonly source: string;
}

export interface Topology {
  readonly applicationId: string | undefined;
  /** Every node, in the order it was added. */
  readonly nodes: readonly TopologyNode[];
  readonly stores: readonly StateStoreSpec[];
  /** Which source node reads each topic (internal topics included). */
  readonly sourceByTopic: ReadonlyMap<string, SourceNode>;
  /** In the order they were added. */
  readonly repartitions: readonly RepartitionTopic[];
}

type PendingNode =
  | { kind: 'source'; name: string; options: SourceOptions; repartition?: string }
  | { kind: 'processor'; name: string; options: ProcessorOptions; parents: string[] }
  | { kind: 'sink'; name: string; options: SinkOptions; parents: string[] };

interface PendingRepartition {
  name: string;
  partitions: number | undefined;
  codec: Codec<unknown>;
  keyOf: KeyOf<unknown>;
}

/** Kafka's rule for topic names: at most 249 characters of these. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** The name of a repartition's internal topic, as Kafka Streams forms it. */
export function repartitionTopicName(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`;
}

/** The names of a repartition's two nodes: the sink upstream, the source its children name as parent. */
export function repartitionNodeNames(name: string): { sink: string; source: string } {
  return { sink: `${name}-repartition-sink`, source: `${name}-repartition-source` };
}

export class TopologyBuilder {
  readonly #applicationId: string | undefined;
  readonly #nodes: PendingNode[] = [];
  readonly #stores: StateStoreSpec[] = [];
  readonly #repartitions: PendingRepartition[] = [];

  constructor(options: TopologyBuilderOptions = {}) {
    this.#applicationId = options.applicationId;
  }

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

  /** A sink to a topic (`{ topic, codec }`) or into a repartition's internal topic (`{ repartition }`): see the module comment. */
  addSink<T>(name: string, options: SinkOptions<T>, ...parentNames: string[]): this {
    this.#nodes.push({ kind: 'sink', name, options: options as SinkOptions, parents: parentNames });
    return this;
  }

  /**
   * Re-keys what the parents forward with `keyOf` and sends it through the internal topic
   * `<applicationId>-<name>-repartition`: a sink `<name>-repartition-sink` ends the parents'
   * sub-topology and a source `<name>-repartition-source` starts the next one (its children name
   * it as their parent). Like any sink's output, a record sent to it is an outbox row committed
   * with the upstream batch; the downstream sub-topology consumes the topic with offsets of its own.
   * More writers join with `addSink(name, { repartition: name }, ...parents)`.
   */
  addRepartition<T>(name: string, options: RepartitionOptions<T>, ...parentNames: string[]): this {
    const nodes = repartitionNodeNames(name);
    const topic = repartitionTopicName(this.#applicationId ?? '', name);
    const codec = options.codec as Codec<unknown>;
    const keyOf = options.keyOf as KeyOf<unknown>;
    this.#repartitions.push({ name, partitions: options.partitions, codec, keyOf });
    this.#nodes.push({ kind: 'sink', name: nodes.sink, options: { repartition: name }, parents: parentNames });
    this.#nodes.push({ kind: 'source', name: nodes.source, options: { topics: [topic], codec, keyOf }, repartition: name });
    return this;
  }

  /** Validates the whole graph and reports every problem at once. */
  build(): Topology {
    const problems = [
      ...findProblems(this.#nodes, this.#stores),
      ...repartitionProblems(this.#applicationId, this.#repartitions, this.#nodes),
      ...repartitionSinkProblems(this.#nodes, this.#repartitions),
    ];
    if (problems.length === 0) return freeze(this.#applicationId, this.#nodes, this.#stores, this.#repartitions);
    throw new StreamError('TOPOLOGY_INVALID', `invalid topology: ${problems.join('; ')}`, { context: { problems } });
  }
}

function repartitionProblems(applicationId: string | undefined, repartitions: PendingRepartition[], nodes: PendingNode[]): string[] {
  if (repartitions.length === 0) return [];
  const problems: string[] = [];
  if (applicationId === undefined || !TOPIC_NAME.test(applicationId)) {
    problems.push(
      applicationId === undefined
        ? 'a repartition needs an application id to name its topic (new TopologyBuilder({ applicationId }))'
        : `application id "${applicationId}" is not usable in a topic name (letters, digits, ".", "_", "-")`,
    );
  }
  for (const name of duplicates(repartitions.map((repartition) => repartition.name))) problems.push(`duplicate repartition name "${name}"`);
  for (const repartition of repartitions) {
    if (!/^[a-zA-Z0-9._-]+$/.test(repartition.name)) problems.push(`repartition name "${repartition.name}" is not usable in a topic name (letters, digits, ".", "_", "-")`);
    else if (applicationId !== undefined && !TOPIC_NAME.test(repartitionTopicName(applicationId, repartition.name))) {
      problems.push(`repartition "${repartition.name}": topic name "${repartitionTopicName(applicationId, repartition.name)}" is longer than 249 characters`);
    }
    if (repartition.codec === undefined || repartition.keyOf === undefined) problems.push(`repartition "${repartition.name}" needs a codec and a keyOf`);
    const { partitions } = repartition;
    if (partitions !== undefined && !(Number.isInteger(partitions) && partitions > 0)) problems.push(`repartition "${repartition.name}" has ${partitions} partitions (a positive integer or none)`);
  }
  // A plain sink on an internal topic would write records neither keyed nor named as the repartition's.
  const internal = new Map(repartitions.map((repartition) => [repartitionTopicName(applicationId ?? '', repartition.name), repartition.name]));
  for (const node of nodes) {
    if (node.kind === 'sink' && node.options.repartition === undefined && internal.has(node.options.topic)) {
      problems.push(`sink "${node.name}" writes topic "${node.options.topic}", internal to repartition "${internal.get(node.options.topic)}" (write it with { repartition: "${internal.get(node.options.topic)}" })`);
    }
  }
  return problems;
}

/** A sink into a repartition names one that exists, and nothing of its own to write with. */
function repartitionSinkProblems(nodes: PendingNode[], repartitions: PendingRepartition[]): string[] {
  const names = new Set(repartitions.map((repartition) => repartition.name));
  const problems: string[] = [];
  for (const node of nodes) {
    if (node.kind !== 'sink' || node.options.repartition === undefined) continue;
    const { repartition, topic, codec } = node.options as { repartition: string; topic?: unknown; codec?: unknown };
    if (!names.has(repartition)) problems.push(`sink "${node.name}" writes unknown repartition "${repartition}"`);
    if (topic !== undefined || codec !== undefined) {
      problems.push(`sink "${node.name}" names repartition "${repartition}" and a ${topic !== undefined ? 'topic' : 'codec'}: it writes the repartition's topic with its codec, give only { repartition }`);
    }
  }
  return problems;
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
      if (parent === undefined) {
        const isRepartition = nodes.some((candidate) => candidate.kind === 'source' && candidate.repartition === parentName);
        const hint = isRepartition ? ` (the repartition's children name "${repartitionNodeNames(parentName).source}")` : '';
        problems.push(`${node.kind} "${node.name}" has unknown parent "${parentName}"${hint}`);
      }
      else if (parent.kind === 'sink') problems.push(`${node.kind} "${node.name}" has sink "${parentName}" as parent (sinks have no children)`);
    }
    if (node.kind === 'sink' && node.options.repartition === undefined && !node.options.topic) problems.push(`sink "${node.name}" has no topic`);
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

function freeze(applicationId: string | undefined, nodes: PendingNode[], stores: StateStoreSpec[], pendingRepartitions: PendingRepartition[]): Topology {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const children = childrenByName(nodes, byName);
  const repartitionByName = new Map(pendingRepartitions.map((repartition) => [repartition.name, repartition]));
  const built = nodes.map((node) => freezeNode(node, Object.freeze([...(children.get(node.name) ?? [])]), applicationId!, repartitionByName));
  const sourceByTopic = new Map<string, SourceNode>();
  for (const node of built) if (node.kind === 'source') for (const topic of node.topics) sourceByTopic.set(topic, node);
  const repartitions = pendingRepartitions.map(({ name, partitions }) => {
    const { sink, source } = repartitionNodeNames(name);
    const others = built.filter((node) => node.kind === 'sink' && node.repartition === name && node.name !== sink).map((node) => node.name);
    return Object.freeze({ name, topic: repartitionTopicName(applicationId!, name), partitions, sink, writers: Object.freeze([sink, ...others]), source });
  });
  return Object.freeze({ applicationId, nodes: Object.freeze(built), stores: Object.freeze([...stores]), sourceByTopic, repartitions: Object.freeze(repartitions) });
}

function freezeNode(node: PendingNode, nodeChildren: readonly string[], applicationId: string, repartitions: ReadonlyMap<string, PendingRepartition>): TopologyNode {
  switch (node.kind) {
    case 'source':
      return Object.freeze({
        kind: 'source',
        name: node.name,
        topics: Object.freeze([...node.options.topics]),
        codec: node.options.codec,
        keyOf: node.options.keyOf,
        repartition: node.repartition,
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
    case 'sink': {
      const { options } = node;
      const repartition = options.repartition === undefined ? undefined : repartitions.get(options.repartition)!;
      return Object.freeze({
        kind: 'sink',
        name: node.name,
        topic: repartition === undefined ? options.topic! : repartitionTopicName(applicationId, repartition.name),
        codec: repartition === undefined ? options.codec! : repartition.codec,
        repartition: repartition?.name,
        keyOf: repartition?.keyOf,
        parents: Object.freeze([...node.parents]),
        children: nodeChildren,
      });
    }
  }
}

/** Every topic a topology reads: what the consumer group subscribes to. */
export function sourceTopics(topology: Topology): string[] {
  return [...topology.sourceByTopic.keys()];
}
