import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkDependencies } from '../../../scripts/check-deps.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('deps:check', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const tree = () => {
    root = mkdtempSync(path.join(tmpdir(), 'deps-'));
    write('core/errors.ts', 'export class StreamError extends Error {}\n');
    write('topology/builder.ts', "import { StreamError } from '../core/errors.ts';\nexport const built = StreamError;\n");
    write('processors/pipeline.ts', "import { built } from '../topology/builder.ts';\nexport const pipeline = built;\n");
    write('sinks/committer.ts', "import { built } from '../topology/builder.ts';\nexport const committer = built;\n");
  };

  it('passes a tree whose engine knows no pipeline, and passes this repository', () => {
    tree();
    expect(checkDependencies(root).problems).toEqual([]);
    expect(checkDependencies(REPO).problems).toEqual([]);
  });

  it('fails when the engine imports the pipeline', () => {
    tree();
    write('topology/runtime.ts', "import { pipeline } from '../processors/pipeline.ts';\nexport const runtime = pipeline;\n");
    write('sinks/effects.ts', "import { rows } from '../state/commerce/orders.ts';\nexport const effects = rows;\n");
    write('state/commerce/orders.ts', 'export const rows = [];\n');
    const { problems } = checkDependencies(root);
    expect([...problems].sort()).toEqual([
      'layering: sinks/effects.ts imports state/commerce/orders.ts (sinks may use sinks, core, kafka, state, topology)',
      'layering: topology/runtime.ts imports processors/pipeline.ts (topology may use topology, core, kafka)',
    ]);
    expect(problems).toHaveLength(2);
  });

  it('keeps an example to the public API: it may not use the reference pipeline', () => {
    tree();
    write('examples/counts/topology.ts', "import { built } from '../../topology/builder.ts';\nimport { pipeline } from '../../processors/pipeline.ts';\nexport const example = [built, pipeline];\n");
    // Its tests may use the test helpers.
    write('examples/counts/tests/topology.unit.test.ts', "import { helper } from '../../../test/support/helper.ts';\nexport const test = helper;\n");
    expect(checkDependencies(root).problems).toEqual([
      'layering: examples/counts/topology.ts imports processors/pipeline.ts (examples may use examples, core, kafka, state, state/migrations, state/migrator.ts, topology, sinks, streams)',
    ]);
  });

  it('fails when the engine names the domain, even in a comment', () => {
    tree();
    write('topology/cache.ts', '// keeps the inventory of each partition\nexport const cache = new Map();\n');
    expect(checkDependencies(root).problems).toEqual(['engine names the pipeline: topology/cache.ts:1 says "inventory"']);
  });

  it('fails on a cycle', () => {
    tree();
    write('core/a.ts', "import { b } from './b.ts';\nexport const a = b;\n");
    write('core/b.ts', "import { a } from './a.ts';\nexport const b = a;\n");
    expect(checkDependencies(root).problems).toEqual(['cycle: core/a.ts -> core/b.ts -> core/a.ts']);
  });
});
