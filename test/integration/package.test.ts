/**
 * The package as users get it: `npm pack` (which builds dist/), the tarball installed
 * into a temporary folder, and the README's library example run there with `node` on
 * each tier. They all print the same, the right sums. When packing or installing is
 * impossible here, the test says why and counts as skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../helpers/cli.ts';
import { plainOutput, readmeExampleOutput, readmeLibraryExample } from '../helpers/readme-example.ts';
import { TestRequirement } from '../helpers/test-data.ts';

/** Packs the checkout and installs the tarball into a fresh folder; the folder, or why it could not be done. */
function packAndInstall(): { dir: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-package-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const run = (cmd: string, args: string[], cwd: string): void => {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, encoding: 'utf8' });
  };
  try {
    run('npm', ['pack', '--pack-destination', dir, '--silent'], repoRoot);
  } catch (error) {
    return { reason: `npm pack failed: ${firstLine(error)}` };
  }
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) return { reason: 'npm pack made no tarball' };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wasmig-package-test', private: true, type: 'module' }));
  try {
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', `./${tarball}`], dir);
  } catch (error) {
    return { reason: `npm install of the tarball failed (is the registry reachable?): ${firstLine(error)}` };
  }
  mkdirSync(join(dir, 'examples'));
  copyFileSync(resolve(repoRoot, 'examples/squares.wasm'), join(dir, 'examples/squares.wasm'));
  return { dir };
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(error)).split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
}

const installed = packAndInstall();
const packed = new TestRequirement('the packed package', 'reason' in installed ? installed.reason : installed.dir, () => 'dir' in installed);

for (const tier of ['interp', 'native', 'auto'] as const) {
  packed.register(test, `README library example from the packed package, tier ${tier}`, () => {
    const dir = (installed as { dir: string }).dir;
    const file = join(dir, `example-${tier}.mjs`);
    writeFileSync(file, readmeLibraryExample('wasmig', tier));
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: plainOutput() });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, readmeExampleOutput());
  });
}

test.run();
