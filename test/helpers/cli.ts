import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
const main = resolve(repoRoot, 'src/cli/main.ts');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `wasmig ARGS` from the sources (no build needed), as a separate process. */
export function wasmig(args: readonly string[], options: { input?: string | Uint8Array; cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [tsx, main, ...args], {
    input: options.input,
    env: options.env,
    cwd: options.cwd ?? repoRoot,
    timeout: options.timeout ?? 60_000,
    encoding: 'buffer',
  });
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
