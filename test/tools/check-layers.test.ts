import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLayers, LAYERS } from '../../tools/check-layers.ts';
import { repoRoot } from '../helpers/cli.ts';

/** A throwaway `src/` tree: file path -> contents. */
function sourceTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wasmig-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('the sources follow the layers, and every layer is a folder of src/', () => {
  assert.equal(checkLayers(), []);
});

test("the README's architecture line is the layer list", () => {
  const line = LAYERS.map((peers) => peers.join(', ')).join(' <- ');
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.ok(readme.split('\n').includes(line), `README.md should hold the line: ${line}`);
});

const CASES: { name: string; files: Record<string, string>; problems: string[] }[] = [
  {
    name: 'a layer with no folder',
    files: { 'low/index.ts': '', 'high/a.ts': "import { x } from '../low/index.ts';\n" },
    problems: ['LAYERS names ghost, but there is no folder src/ghost (tools/check-layers.ts)'],
  },
  {
    name: 'an import that points up',
    files: { 'low/a.ts': "import { y } from '../high/index.ts';\n", 'high/index.ts': '', 'ghost/index.ts': '' },
    problems: ['low/a.ts: imports ../high/index.ts (src/high is not below src/low)'],
  },
  {
    name: 'an import past the index',
    files: { 'low/b.ts': '', 'high/a.ts': "export { b } from '../low/b.ts';\n", 'ghost/index.ts': '' },
    problems: ['high/a.ts: imports ../low/b.ts (go through src/low/index.ts)'],
  },
  {
    name: 'a folder outside the layers',
    files: { 'stray/a.ts': '', 'low/index.ts': '', 'high/index.ts': '', 'ghost/index.ts': '' },
    problems: ['stray/a.ts: folder src/stray is not in LAYERS (tools/check-layers.ts)'],
  },
];

for (const c of CASES) {
  test(`finds ${c.name}`, () => {
    const src = sourceTree(c.files);
    try {
      assert.equal(checkLayers(src, [['low', 'ghost'], ['high']]), c.problems);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
}

test.run();
