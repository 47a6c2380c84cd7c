import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
const main = resolve(repoRoot, 'src/cli/main.ts');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

let cacheDir: string | undefined;

/**
 * Runs `wasmig ARGS` from the sources (no build needed), as a separate process. Its
 * cache of rewritten modules is a temporary directory (one per test process), never
 * the user's, unless `env` names one.
 */
export function wasmig(args: readonly string[], options: { input?: string | Uint8Array; cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const env = { ...(options.env ?? process.env) };
  if (cacheDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'wasmig-cli-cache-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    cacheDir = dir;
  }
  env.WASMIG_CACHE_DIR ??= cacheDir;
  const r = spawnSync(process.execPath, [tsx, main, ...args], {
    input: options.input,
    env,
    cwd: options.cwd ?? repoRoot,
    timeout: options.timeout ?? 60_000,
    encoding: 'buffer',
  });
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
