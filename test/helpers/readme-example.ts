/**
 * The README's library example (the ```js block under "## Library API"), to run as it
 * is written: only where it imports wasmig from, and the tier it names, change.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './cli.ts';

/** The example's source, importing wasmig from `importFrom`, on `tier`. */
export function readmeLibraryExample(importFrom: string, tier: 'interp' | 'native' | 'auto'): string {
  const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library API'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no ```js block under "## Library API"');
  const code = block[1]!;
  if (!code.includes("from 'wasmig'") || !code.includes("tier: 'auto'")) throw new Error('README.md: the library example no longer imports \'wasmig\' with tier: \'auto\'');
  return code.replaceAll("from 'wasmig'", `from '${importFrom}'`).replaceAll("tier: 'auto'", `tier: '${tier}'`);
}

/** What the example prints, on every tier: sums of squares every 100,000 steps, a pause after the second. */
export function readmeExampleOutput(): string {
  const sum = (n: bigint): bigint => ((n - 1n) * n * (2n * n - 1n)) / 6n;
  const step = (k: number): string => `step ${k * 100_000}: ${sum(BigInt(k * 100_000))}`;
  return [step(1), step(2), 'paused', '2', step(3), step(4), step(5), "{ kind: 'exited', status: 0 }", ''].join('\n');
}

/** The environment to run the example in: without colours (uvu forces them), as a user's pipe sees it. */
export function plainOutput(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  return env;
}
