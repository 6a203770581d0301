/**
 * Kafka Streams' `TopologyDescription#toString`, character for character, so the output
 * reads like (and diffs against) what Java users know. Its quirks are kept on purpose: the
 * first sub-topology line is indented by three spaces and later ones by two, and every
 * sub-topology ends with an empty line.
 */
import type { NodeDescription, TopologyDescription } from './description.ts';

export function formatText(description: TopologyDescription): string {
  let text = 'Topologies:\n ';
  for (const subtopology of description.subtopologies) {
    text += `  Sub-topology: ${subtopology.id}\n`;
    for (const node of subtopology.nodes) text += `    ${formatNode(node)}\n`;
    text += '\n';
  }
  return text;
}

function formatNode(node: NodeDescription): string {
  switch (node.type) {
    case 'source':
      return `Source: ${node.name} (topics: [${node.topics.join(', ')}])\n      --> ${nodeNames(node.successors)}`;
    case 'processor':
      return (
        `Processor: ${node.name} (stores: [${node.stores.join(', ')}])\n      --> ${nodeNames(node.successors)}` +
        `\n      <-- ${nodeNames(node.predecessors)}`
      );
    case 'sink':
      return `Sink: ${node.name} (topic: ${node.topic})\n      <-- ${nodeNames(node.predecessors)}`;
  }
}

function nodeNames(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}
