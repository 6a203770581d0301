/**
 * Records per second of every node of the topology graph, from two samples taken an interval
 * apart. Pure. A node has no counter of its own that another process could read, so each rate
 * comes from what PostgreSQL and the broker show:
 *
 * - a source node: the growth of the database offsets of its topics' partitions (what was
 *   committed: consumed and processed, exactly once);
 * - a sink node: the growth of its topic's end offsets (what the relay published there; a topic
 *   several sinks write shows the sum of all of them on each);
 * - a processor node: its sub-topology's input rate (the sum of its source nodes' rates), since
 *   every record a sub-topology commits went through its processors.
 */
import type { TopologyDescription } from '../../topology/describe/index.ts';

export interface RateSample {
  atMs: number;
  /** Per topic, the sum of the group's database offsets over its partitions. */
  committed: ReadonlyMap<string, bigint>;
  /** Per topic, the sum of its partitions' end offsets (absent: could not be read). */
  ends: ReadonlyMap<string, bigint>;
}

/** Per second over the window, one decimal below 10 and whole above; 0 when nothing grew (or a counter went back, as after a reset). */
export function ratePerSecond(before: bigint | undefined, after: bigint | undefined, windowMs: number): number {
  if (before === undefined || after === undefined || after <= before || windowMs <= 0) return 0;
  const perSecond = (Number(after - before) * 1000) / windowMs;
  return perSecond < 10 ? Math.round(perSecond * 10) / 10 : Math.round(perSecond);
}

export interface GraphRates {
  nodes: Record<string, { recordsPerSecond: number }>;
  /** Per sub-topology id, its input rate. */
  subtopologies: Map<number, number>;
}

/** Every node of the description and every sub-topology, with its rate between `before` and `after` (0 everywhere when they are the same sample). */
export function graphRates(description: TopologyDescription, before: RateSample, after: RateSample): GraphRates {
  const windowMs = after.atMs - before.atMs;
  const committedRate = (topic: string) => ratePerSecond(before.committed.get(topic), after.committed.get(topic), windowMs);
  const nodes: Record<string, { recordsPerSecond: number }> = {};
  const subtopologies = new Map<number, number>();
  for (const subtopology of description.subtopologies) {
    let input = 0;
    for (const node of subtopology.nodes) {
      if (node.type !== 'source') continue;
      const rate = roundRate(node.topics.reduce((sum, topic) => sum + committedRate(topic), 0));
      nodes[node.name] = { recordsPerSecond: rate };
      input += rate;
    }
    input = roundRate(input);
    subtopologies.set(subtopology.id, input);
    for (const node of subtopology.nodes) {
      if (node.type === 'processor') nodes[node.name] = { recordsPerSecond: input };
      if (node.type === 'sink') nodes[node.name] = { recordsPerSecond: ratePerSecond(before.ends.get(node.topic), after.ends.get(node.topic), windowMs) };
    }
  }
  return { nodes, subtopologies };
}

/** Sums of rounded rates keep the rounding of one rate (0.1 + 0.2 is 0.3, not 0.30000000000000004). */
function roundRate(perSecond: number): number {
  return perSecond < 10 ? Math.round(perSecond * 10) / 10 : Math.round(perSecond);
}

/** The topics sink nodes write: whose end offsets a sample reads. */
export function sinkTopics(description: TopologyDescription): string[] {
  return [...new Set(description.subtopologies.flatMap((subtopology) => subtopology.nodes.flatMap((node) => (node.type === 'sink' ? [node.topic] : []))))];
}
