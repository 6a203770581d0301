/**
 * Checks that dependencies point one way and that no module imports itself in a circle.
 *
 *   core  <-  kafka, state  <-  topology  <-  sinks  <-  streams   (the engine: knows no pipeline)
 *   engine  <-  processors (the pipeline)  <-  app  <-  loadtest, verify
 *
 * The engine is topology/, sinks/, streams/ (its front door), kafka/ and the generic part of state/ (everything but
 * state/commerce/, the pipeline's tables, and the schema: state/migrations/, state/migrator.ts).
 * It imports nothing of the pipeline, and topology/ does not even name it: no word of orders,
 * products or inventory. Nothing imports verify/ or loadtest/ but themselves.
 *
 * `checkDependencies(root)` returns the problems (the test proves the rules bite); run as a
 * script it prints them and exits 1.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What each part may import (besides itself). Parts are the longest matching prefix. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  kafka: ['core'],
  state: ['core'],
  topology: ['core', 'kafka'],
  sinks: ['core', 'kafka', 'state', 'topology'],
  streams: ['core', 'kafka', 'state', 'topology', 'sinks'],
  'state/commerce': ['core', 'state'],
  'state/migrations': ['core'],
  'state/migrator.ts': ['core', 'state/migrations'],
  processors: ['core', 'topology'],
  app: ['core', 'kafka', 'state', 'state/commerce', 'state/migrations', 'state/migrator.ts', 'topology', 'sinks', 'streams', 'processors'],
  loadtest: ['core', 'kafka', 'state', 'state/commerce', 'state/migrations', 'state/migrator.ts', 'processors', 'app'],
  // An example uses the engine's public API only: nothing of the reference pipeline.
  examples: ['core', 'kafka', 'state', 'state/migrations', 'state/migrator.ts', 'topology', 'sinks', 'streams'],
  verify: ['core', 'kafka', 'state', 'state/commerce', 'state/migrations', 'state/migrator.ts', 'topology', 'sinks', 'streams', 'processors', 'app'],
};
const PARTS = Object.keys(ALLOWED).sort((a, b) => b.length - a.length);

/** Words of the reference pipeline's domain, which the engine's own folder must not use. */
const DOMAIN_WORDS = /\b(products?|productIds?|inventory|inventories|stock|customers?|orders|orderIds?|an order|OrderCreated|InventoryUpdated)\b/i;
const WORD_FREE = ['topology'];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    // An example's tests may use the test helpers; the rules are about the code that ships.
    if (statSync(full).isDirectory()) return entry === 'tests' ? [] : walk(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

function partOf(relative: string): string | undefined {
  const posix = relative.split(path.sep).join('/');
  return PARTS.find((part) => posix === part || posix.startsWith(`${part}/`));
}

export function checkDependencies(root: string): { modules: number; problems: string[] } {
  const topLevel = [...new Set(PARTS.map((part) => part.split('/')[0]!))];
  const files = topLevel.flatMap((dir) => {
    try {
      return walk(path.join(root, dir));
    } catch {
      return [];
    }
  });
  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const from = path.relative(root, file);
    const part = partOf(from)!;
    const targets: string[] = [];
    for (const match of source.matchAll(IMPORT)) {
      const target = path.relative(root, path.resolve(path.dirname(file), (match[1] ?? match[2] ?? match[3])!));
      const targetPart = partOf(target);
      if (targetPart !== part && (targetPart === undefined || !ALLOWED[part]!.includes(targetPart))) {
        problems.push(`layering: ${from} imports ${target} (${part} may use ${[part, ...ALLOWED[part]!].join(', ')})`);
      }
      targets.push(target);
    }
    if (WORD_FREE.includes(part)) {
      const lines = source.split('\n');
      lines.forEach((line, index) => {
        const word = DOMAIN_WORDS.exec(line);
        if (word) problems.push(`engine names the pipeline: ${from}:${index + 1} says "${word[0]}"`);
      });
    }
    graph.set(from, targets);
  }

  // Depth-first search for cycles (white/grey/black colouring).
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
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
  };
  for (const node of graph.keys()) visit(node);
  return { modules: files.length, problems };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { modules, problems } = checkDependencies(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'));
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`dependencies ok: ${modules} modules, no cycles, the engine imports nothing of the pipeline\n`);
}
