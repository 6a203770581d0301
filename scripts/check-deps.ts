/**
 * Checks that dependencies point one way and that no module imports itself in a circle:
 *   core  <-  processors, kafka, state  <-  sinks  <-  topology  <-  verify
 * `processors` stay pure (core only). Nothing imports `verify`; only `verify` imports `topology`. Exits 1 on a violation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  processors: ['core', 'processors'],
  kafka: ['core', 'kafka'],
  state: ['core', 'state'],
  sinks: ['core', 'kafka', 'processors', 'state', 'sinks'],
  topology: ['core', 'kafka', 'processors', 'state', 'sinks', 'topology'],
  verify: ['core', 'kafka', 'processors', 'state', 'sinks', 'topology', 'verify'],
};
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return walk(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

const files = Object.keys(ALLOWED).flatMap((layer) => walk(path.join(ROOT, layer)));
const graph = new Map<string, string[]>();
const problems: string[] = [];
for (const file of files) {
  const source = readFileSync(file, 'utf8');
  const from = path.relative(ROOT, file);
  const layer = from.split(path.sep)[0]!;
  const targets: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const target = path.relative(ROOT, path.resolve(path.dirname(file), (match[1] ?? match[2] ?? match[3])!));
    const targetLayer = target.split(path.sep)[0]!;
    if (!ALLOWED[layer]!.includes(targetLayer)) problems.push(`layering: ${from} imports ${target} (${layer} may use ${ALLOWED[layer]!.join(', ')})`);
    targets.push(target);
  }
  graph.set(from, targets);
}

// Depth-first search for cycles (white/grey/black colouring).
const state = new Map<string, 'visiting' | 'done'>();
const stack: string[] = [];
function visit(node: string): void {
  if (state.get(node) === 'done') return;
  if (state.get(node) === 'visiting') {
    problems.push(`cycle: ${[...stack.slice(stack.indexOf(node)), node].join(' -> ')}`);
    return;
  }
  state.set(node, 'visiting');
  stack.push(node);
  for (const next of graph.get(node) ?? []) visit(next);
  stack.pop();
  state.set(node, 'done');
}
for (const node of graph.keys()) visit(node);

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`dependencies ok: ${files.length} modules, no cycles, layers point one way\n`);
