/**
 * A child process of plain Node that runs a script against wasmig's sources and says
 * whether V8 turned its "array buffer detaching" protector off (after which the
 * interpreter's loop checks every typed-array access: docs/interpreter-speed.md).
 *
 * The sources are bundled with esbuild: TypeScript loaders in the process detach buffers
 * of their own, which would hide what the tests check.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from './cli.ts';

const INVALIDATED = 'Invalidating protector cell ArrayBufferDetaching';

export interface ProtectorRun {
  status: number | null;
  stderr: string;
  /** The script's one line of JSON on stdout, parsed. */
  result: unknown;
  /** Whether V8 reported the protector invalidated. */
  detached: boolean;
}

/**
 * Runs `script` (an ES module importing wasmig's sources by absolute path) with `args`
 * under `--trace-protector-invalidation`. `threads` are more entry points bundled beside
 * it by name (a worker's entry, where `thread-boot.ts` looks for it: `job-thread`).
 */
export async function runProtectorChild(script: string, args: string[], threads: Record<string, string> = {}): Promise<ProtectorRun> {
  // Inside the checkout, so that the packages the platform loads at run time resolve.
  const cache = join(repoRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'wasmig-protector-child-'));
  try {
    writeFileSync(join(dir, 'child.mjs'), script);
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    await build({
      entryPoints: { child: join(dir, 'child.mjs'), ...threads },
      outdir: dir, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent', absWorkingDir: repoRoot,
      banner: { js: "import { createRequire as wasmigRequire } from 'node:module'; const require = wasmigRequire(import.meta.url);" },
    });
    const r = spawnSync(process.execPath, ['--trace-protector-invalidation', join(dir, 'child.js'), ...args], { encoding: 'utf8', timeout: 120_000, cwd: repoRoot });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    return {
      status: r.status, stderr: r.stderr,
      result: line === undefined ? undefined : JSON.parse(line),
      detached: r.stdout.includes(INVALIDATED) || r.stderr.includes(INVALIDATED),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
