/**
 * The topology graph as SVG: sub-topologies as clusters with their lag, sources, processors,
 * sinks and internal topics in distinct shapes, live records/s on every node. The layout
 * (graph-layout.js) is computed once per description; snapshots only change the numbers.
 */
import { useMemo } from 'preact/hooks';
import { formatCount, formatRate, hasLag } from './format.js';
import { LINE_HEIGHT, layoutTopology } from './graph-layout.js';
import { html } from './html.js';

const KIND_LABEL = { source: 'source', processor: 'processor', sink: 'sink', topic: 'internal topic' };

/** A source is a stadium, a processor a rectangle, a sink a box with a notched arrow end, a topic a parallelogram. */
function shapeOf(node) {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  const { width, height } = node;
  switch (node.type) {
    case 'source':
      return html`<rect class="shape" x=${left} y=${top} width=${width} height=${height} rx=${Math.min(18, height / 2)} />`;
    case 'sink': {
      const tip = 10;
      const points = [
        [left, top],
        [left + width - tip, top],
        [left + width, node.y],
        [left + width - tip, top + height],
        [left, top + height],
      ];
      return html`<polygon class="shape" points=${points.map((point) => point.join(',')).join(' ')} />`;
    }
    case 'topic': {
      const slant = 10;
      const points = [
        [left + slant, top],
        [left + width, top],
        [left + width - slant, top + height],
        [left, top + height],
      ];
      return html`<polygon class="shape" points=${points.map((point) => point.join(',')).join(' ')} />`;
    }
    default:
      return html`<rect class="shape" x=${left} y=${top} width=${width} height=${height} rx="3" />`;
  }
}

function pathOf(edge) {
  const [first, ...rest] = edge.points;
  return `M${first.x},${first.y} ${rest.map((point) => `L${point.x},${point.y}`).join(' ')}`;
}

function GraphNode({ node, rate }) {
  const top = node.y - node.height / 2;
  const textTop = top + (node.type === 'topic' ? 7 : 6);
  const title = [`${KIND_LABEL[node.type]} ${node.name}`, node.detail].filter(Boolean).join('\n');
  return html`<g class=${`node node-${node.type}`} data-node=${node.type === 'topic' ? undefined : node.name} data-topic=${node.type === 'topic' ? node.name : undefined}>
    <title>${title}</title>
    ${shapeOf(node)}
    ${node.lines.map(
      (line, index) =>
        html`<text class=${index === node.detailLine ? 'detail' : 'name'} x=${node.x} y=${textTop + (index + 0.8) * LINE_HEIGHT}>${line}</text>`,
    )}
    ${node.type === 'topic' ? null : html`<text class=${rate > 0 ? 'rate active' : 'rate'} data-rate=${String(rate)} x=${node.x} y=${textTop + (node.lines.length + 1.05) * LINE_HEIGHT}>${formatRate(rate)}</text>`}
  </g>`;
}

function Cluster({ cluster, subtopology }) {
  const left = cluster.x - cluster.width / 2;
  const top = cluster.y - cluster.height / 2;
  const lag = subtopology?.totalLag ?? '0';
  return html`<g class="cluster" data-cluster=${cluster.id}>
    <rect x=${left} y=${top} width=${cluster.width} height=${cluster.height} rx="6" />
    <text class="cluster-title" x=${left + 10} y=${top + 18}>sub-topology ${cluster.id}</text>
    <text class=${hasLag(lag) ? 'cluster-lag lagging' : 'cluster-lag'} x=${left + cluster.width - 10} y=${top + 18} data-testid="subtopology-lag" data-subtopology=${cluster.id} data-lag=${lag}>
      lag ${formatCount(lag)} · ${formatRate(subtopology?.recordsPerSecond ?? 0)}
    </text>
  </g>`;
}

export function TopologyGraph({ description, snapshot }) {
  const layout = useMemo(() => layoutTopology(description), [description]);
  const subtopologies = new Map((snapshot?.subtopologies ?? []).map((each) => [each.id, each]));
  const rates = snapshot?.nodes ?? {};
  return html`<svg data-testid="graph" class="graph" viewBox=${`0 0 ${layout.width} ${layout.height}`} style=${`max-width: ${layout.width}px`} role="img" aria-label="topology graph">
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
      </marker>
    </defs>
    ${layout.clusters.map((cluster) => html`<${Cluster} key=${cluster.id} cluster=${cluster} subtopology=${subtopologies.get(cluster.id)} />`)}
    ${layout.edges.map((edge) => html`<path key=${`${edge.from}->${edge.to}`} class=${`edge edge-${edge.kind}`} d=${pathOf(edge)} marker-end="url(#arrow)" />`)}
    ${layout.nodes.map((node) => html`<${GraphNode} key=${node.id} node=${node} rate=${rates[node.name]?.recordsPerSecond ?? 0} />`)}
  </svg>`;
}
