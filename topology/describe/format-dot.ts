/**
 * Graphviz DOT: one cluster per sub-topology, topics as `cds` arrows, stores as cylinders
 * joined to their processors by dashed undirected edges.
 */
import type { TopologyDescription } from './description.ts';

export function formatDot(description: TopologyDescription): string {
  const lines = ['digraph topology {', '  rankdir=LR;', '  graph [fontname="Helvetica"];', '  node [fontname="Helvetica", fontsize=11];'];
  const edges: string[] = [];
  const topics = new Set<string>();
  for (const subtopology of description.subtopologies) {
    lines.push(`  subgraph cluster_${subtopology.id} {`, `    label=${quote(`Sub-topology: ${subtopology.id}`)};`);
    for (const node of subtopology.nodes) {
      const id = quote(`node:${node.name}`);
      switch (node.type) {
        case 'source':
          lines.push(`    ${id} [label=${quote(`Source: ${node.name}`)}, shape=box, style=rounded];`);
          for (const topic of node.topics) {
            topics.add(topic);
            edges.push(`  ${quote(`topic:${topic}`)} -> ${id};`);
          }
          break;
        case 'processor':
          lines.push(`    ${id} [label=${quote(`Processor: ${node.name}`)}, shape=box];`);
          for (const store of node.stores) edges.push(`  ${id} -> ${quote(`store:${store}`)} [style=dashed, dir=none];`);
          break;
        case 'sink':
          lines.push(`    ${id} [label=${quote(`Sink: ${node.name}`)}, shape=box, style=rounded];`);
          topics.add(node.topic);
          edges.push(`  ${id} -> ${quote(`topic:${node.topic}`)};`);
          break;
      }
      if (node.type !== 'sink') for (const child of node.successors) edges.push(`  ${id} -> ${quote(`node:${child}`)};`);
    }
    lines.push('  }');
  }
  for (const topic of topics) lines.push(`  ${quote(`topic:${topic}`)} [label=${quote(topic)}, shape=cds];`);
  for (const store of description.stores) lines.push(`  ${quote(`store:${store.name}`)} [label=${quote(store.name)}, shape=cylinder];`);
  return `${[...lines, ...edges, '}'].join('\n')}\n`;
}

function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
