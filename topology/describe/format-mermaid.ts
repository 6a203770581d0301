/**
 * A Mermaid flowchart: topics as flags, sources and sinks as stadiums, processors as boxes,
 * state stores as cylinders linked to their processors by dotted lines, one subgraph per
 * sub-topology. Node ids are generated, so any node name is safe.
 */
import type { TopologyDescription } from './description.ts';

export function formatMermaid(description: TopologyDescription): string {
  const ids = new IdRegistry();
  const lines = ['flowchart LR'];
  const edges: string[] = [];
  for (const subtopology of description.subtopologies) {
    lines.push(`  subgraph ${ids.of('sub', String(subtopology.id))}["Sub-topology: ${subtopology.id}"]`);
    for (const node of subtopology.nodes) {
      const id = ids.of('node', node.name);
      switch (node.type) {
        case 'source':
          lines.push(`    ${id}(["Source: ${label(node.name)}"])`);
          for (const topic of node.topics) edges.push(`  ${ids.of('topic', topic)} --> ${id}`);
          break;
        case 'processor':
          lines.push(`    ${id}["Processor: ${label(node.name)}"]`);
          for (const store of node.stores) edges.push(`  ${id} -.- ${ids.of('store', store)}`);
          break;
        case 'sink':
          lines.push(`    ${id}(["Sink: ${label(node.name)}"])`);
          edges.push(`  ${id} --> ${ids.of('topic', node.topic)}`);
          break;
      }
      if (node.type !== 'sink') for (const child of node.successors) edges.push(`  ${id} --> ${ids.of('node', child)}`);
    }
    lines.push('  end');
  }
  for (const [name, id] of ids.all('topic')) lines.push(`  ${id}>"${label(name)}"]`);
  for (const store of description.stores) lines.push(`  ${ids.of('store', store.name)}[("${label(store.name)}")]`);
  return `${[...lines, ...edges].join('\n')}\n`;
}

/** Mermaid labels are quoted strings: a double quote must become an entity. */
function label(text: string): string {
  return text.replaceAll('"', '#quot;');
}

class IdRegistry {
  readonly #ids = new Map<string, Map<string, string>>();
  #next = 0;

  of(kind: string, name: string): string {
    const ofKind = this.#ids.get(kind) ?? new Map<string, string>();
    this.#ids.set(kind, ofKind);
    const id = ofKind.get(name) ?? `${kind}${this.#next++}`;
    ofKind.set(name, id);
    return id;
  }

  all(kind: string): Array<[string, string]> {
    return [...(this.#ids.get(kind) ?? [])];
  }
}
