/**
 * Keeps the arrows of the architecture honest: a file in `src/LAYER/` may import its own
 * folder, and other folders only when they sit lower in `LAYERS`, and then only through
 * their `index.ts`; every layer named in `LAYERS` is a folder of `src/` (no phantom layers).
 * Run by `npm test`; prints every problem and exits 1.
 *
 * Usage: npx tsx tools/check-layers.ts
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lowest first. Folders on one line are peers and may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors'],
  ['wasm'],
  ['binary'],
  ['validate'],
  ['compile'],
  ['exec'],
  ['runtime'],
  ['wasi'],
  ['snapshot'],
  ['native'],
  ['program'],
  ['agent', 'bench'],
  ['dashboard'],
  ['cli'],
];

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

/**
 * Every problem with the layering of the sources under `src`, one line each (empty when
 * there is none).
 */
export function checkLayers(src: string = SRC, layers: readonly (readonly string[])[] = LAYERS): string[] {
  const rank = (folder: string): number => layers.findIndex((peers) => peers.includes(folder));
  const problems: string[] = [];
  for (const folder of layers.flat()) {
    if (!existsSync(join(src, folder))) problems.push(`LAYERS names ${folder}, but there is no folder src/${folder} (tools/check-layers.ts)`);
  }
  for (const file of files(src)) {
    const rel = relative(src, file);
    const folder = rel.includes(sep) ? rel.split(sep)[0]! : '(root)';
    if (folder === '(root)') continue; // index.ts, the public API, may import anything
    const from = rank(folder);
    if (from < 0) { problems.push(`${rel}: folder src/${folder} is not in LAYERS (tools/check-layers.ts)`); continue; }
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = relative(src, resolve(dirname(file), m[1]!));
      const targetFolder = target.split(sep)[0]!;
      if (targetFolder === folder) continue;
      const to = rank(targetFolder);
      if (to < 0 || to >= from) problems.push(`${rel}: imports ${m[1]} (src/${targetFolder} is not below src/${folder})`);
      else if (target !== join(targetFolder, 'index.ts')) problems.push(`${rel}: imports ${m[1]} (go through src/${targetFolder}/index.ts)`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const problems = checkLayers();
  for (const p of problems) console.error(`layers: ${p}`);
  if (problems.length === 0) console.log('layers: every import points down the layers');
  process.exitCode = problems.length === 0 ? 0 : 1;
}
