/**
 * Lays a topology description (the JSON `describe --format json` prints) out as a graph with
 * dagre: one cluster per sub-topology holding its sources, processors and sinks, and every
 * internal (repartition) topic as a node of its own outside the clusters, between the sinks
 * that write it and the source that reads it. Pure: no DOM, so it runs in Node's tests too.
 */
import dagre from '@dagrejs/dagre';

/** Approximate advance of one character of the graph's 12px monospace font, to size the boxes. */
const CHAR_WIDTH = 7.3;
const NODE_PADDING = 28;
export const LINE_HEIGHT = 14;

export const clusterId = (subtopology) => `subtopology:${subtopology}`;
export const topicNodeId = (topic) => `topic:${topic}`;

const MAX_LINE = 20;

/**
 * A name broken into lines of at most MAX_LINE characters at its hyphens (or mid-word when a
 * part is longer), so the graph stays narrow enough to read on one screen.
 */
export function wrapName(name, maxLine = MAX_LINE) {
  const lines = [];
  let line = '';
  for (const part of name.split(/(?<=-)/)) {
    if (line !== '' && line.length + part.length > maxLine) {
      lines.push(line);
      line = '';
    }
    line += part;
    while (line.length > maxLine) {
      lines.push(line.slice(0, maxLine));
      line = line.slice(maxLine);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** `text` cut to `max` characters with an ellipsis (the node's tooltip has it whole). */
export function shorten(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What a node reads, writes or keeps, when the graph does not already draw it as an edge. */
function detailOf(node, internal) {
  switch (node.type) {
    case 'source':
      return node.topics.some((topic) => internal.has(topic)) ? null : `← ${node.topics.join(', ')}`;
    case 'sink':
      return internal.has(node.topic) ? null : `→ ${node.topic}`;
    default:
      return node.stores.length > 0 ? `stores: ${node.stores.join(', ')}` : null;
  }
}

const widthOf = (lines) => Math.ceil(Math.max(...lines.map((line) => line.length)) * CHAR_WIDTH) + NODE_PADDING;
/** Name lines, the detail line and the rate line, 14px apart. */
const heightOf = (lines) => lines.length * LINE_HEIGHT + 26;

function newGraph(options) {
  const graph = new dagre.graphlib.Graph({ multigraph: false });
  graph.setGraph({ marginx: 0, marginy: 0, ...options });
  graph.setDefaultEdgeLabel(() => ({}));
  return graph;
}

/** One sub-topology's own nodes and edges laid out left to right, at the origin. */
function layoutSubtopology(subtopology, internal) {
  const graph = newGraph({ rankdir: 'LR', nodesep: 14, ranksep: 40 });
  const nodes = subtopology.nodes.map((node) => {
    const detail = detailOf(node, internal);
    const lines = [...wrapName(node.name), ...(detail === null ? [] : [shorten(detail, MAX_LINE + 8)])];
    graph.setNode(node.name, { width: widthOf(lines), height: heightOf(lines) });
    return { id: node.name, name: node.name, type: node.type, subtopology: subtopology.id, lines, detail, detailLine: detail === null ? null : lines.length - 1 };
  });
  const edges = [];
  for (const node of subtopology.nodes) {
    for (const successor of node.successors ?? []) {
      graph.setEdge(node.name, successor);
      edges.push({ from: node.name, to: successor, kind: 'record' });
    }
  }
  dagre.layout(graph);
  return {
    width: graph.graph().width,
    height: graph.graph().height,
    nodes: nodes.map((node) => ({ ...node, ...box(graph.node(node.id)) })),
    edges: edges.map((edge) => ({ ...edge, points: graph.edge(edge.from, edge.to).points })),
  };
}

const box = ({ x, y, width, height }) => ({ x, y, width, height });
const CLUSTER_PADDING = { top: 30, side: 14, bottom: 14 };

/**
 * The laid-out graph, in two dagre passes: each sub-topology on its own (left to right), then
 * the sub-topologies as boxes and the internal topics between them, so the repartition loops
 * of the pipeline do not stretch the whole graph into one long row. `nodes` (topology nodes
 * and internal topics) and `clusters` carry centre coordinates; `edges` polyline points.
 */
export function layoutTopology(description, { rankdir = 'TB' } = {}) {
  const internal = new Set(description.internalTopics.map((each) => each.topic));
  const inner = new Map(description.subtopologies.map((subtopology) => [subtopology.id, layoutSubtopology(subtopology, internal)]));

  // Room beside the clusters for the connector lanes (viaWall).
  const outer = newGraph({ rankdir, nodesep: 36, ranksep: 44, marginx: 40, marginy: 8 });
  for (const [id, laid] of inner) {
    outer.setNode(clusterId(id), { width: laid.width + 2 * CLUSTER_PADDING.side, height: laid.height + CLUSTER_PADDING.top + CLUSTER_PADDING.bottom });
  }
  const topics = [];
  for (const topic of internal) {
    const lines = wrapName(topic, 30);
    outer.setNode(topicNodeId(topic), { width: widthOf(lines) + 24, height: lines.length * LINE_HEIGHT + 14 });
    topics.push({ id: topicNodeId(topic), name: topic, type: 'topic', subtopology: null, lines, detailLine: null });
  }
  for (const each of description.internalTopics) {
    outer.setEdge(clusterId(each.fromSubtopology), topicNodeId(each.topic));
    outer.setEdge(topicNodeId(each.topic), clusterId(each.toSubtopology));
  }
  dagre.layout(outer);

  const clusters = [];
  const nodes = [];
  const edges = [];
  for (const [id, laid] of inner) {
    const cluster = box(outer.node(clusterId(id)));
    clusters.push({ id, ...cluster });
    // The inner layout's origin inside the cluster box.
    const dx = cluster.x - cluster.width / 2 + CLUSTER_PADDING.side;
    const dy = cluster.y - cluster.height / 2 + CLUSTER_PADDING.top;
    nodes.push(...laid.nodes.map((node) => ({ ...node, x: node.x + dx, y: node.y + dy })));
    edges.push(...laid.edges.map((edge) => ({ ...edge, points: edge.points.map((point) => ({ x: point.x + dx, y: point.y + dy })) })));
  }
  nodes.push(...topics.map((topic) => ({ ...topic, ...box(outer.node(topic.id)) })));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const lanes = new Map();
  /** The next free lane on one side of the graph: connectors run side by side, not on top of each other. */
  const nextLane = (side) => {
    const lane = lanes.get(side) ?? 0;
    lanes.set(side, lane + 1);
    return lane;
  };
  for (const each of description.internalTopics) {
    const sink = byId.get(each.sink);
    edges.push({ from: each.sink, to: topicNodeId(each.topic), kind: 'repartition', points: viaWall(sink, clusters, byId.get(topicNodeId(each.topic)), nextLane(1)) });
  }
  for (const topic of internal) {
    const source = byId.get(description.internalTopics.find((each) => each.topic === topic).source);
    edges.push({ from: topicNodeId(topic), to: source.name, kind: 'repartition', points: viaWall(source, clusters, byId.get(topicNodeId(topic)), nextLane(-1)).reverse() });
  }
  const { width, height } = outer.graph();
  return { width, height, nodes, clusters, edges };
}

/** How far outside a cluster's wall its first connector lane runs, and the distance between lanes. */
const LANE_GAP = 12;
const LANE_STEP = 8;

/**
 * A connector between a node in a cluster and a topic outside, drawn at right angles: straight
 * out through the cluster's side wall (sinks sit in the last rank and sources in the first, so
 * the way is free), up or down in a lane of its own beyond every cluster it passes to the
 * topic's height, then across to the topic (topics lie between the clusters, so that row is
 * free too). From the node's side to the topic's.
 */
function viaWall(node, clusters, topic, lane) {
  const side = node.type === 'source' ? -1 : 1;
  const [top, bottom] = [Math.min(node.y, topic.y), Math.max(node.y, topic.y)];
  const passed = clusters.filter((cluster) => cluster.y - cluster.height / 2 <= bottom && cluster.y + cluster.height / 2 >= top);
  const walls = passed.map((cluster) => cluster.x + (side * cluster.width) / 2);
  const wall = side > 0 ? Math.max(...walls) : Math.min(...walls);
  const laneX = wall + side * (LANE_GAP + lane * LANE_STEP);
  const topicSide = laneX > topic.x ? 1 : -1;
  return [
    { x: node.x + (side * node.width) / 2, y: node.y },
    { x: laneX, y: node.y },
    { x: laneX, y: topic.y },
    { x: topic.x + (topicSide * topic.width) / 2, y: topic.y },
  ];
}
