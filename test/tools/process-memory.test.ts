import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { byKind, growth, kindOf, probe, readRollup, readSmaps } from '../../tools/bench/process-memory.ts';
import type { Mapping } from '../../tools/bench/process-memory.ts';
import { repoRoot } from '../helpers/cli.ts';

const linux = existsSync('/proc/self/smaps');
const map = (start: string, perms: string, path: string, rss: number, anon = rss): Mapping => ({ start, size: rss * 2, perms, path, rss, anon });

test('kinds: the brk heap, JIT code, anonymous and file mappings apart', () => {
  assert.is(kindOf(map('1', 'rw-p', '[heap]', 10)), 'brk heap');
  assert.is(kindOf(map('2', 'rwxp', '', 10)), 'anon exec (jit code)');
  assert.is(kindOf(map('3', 'rw-p', '', 10)), 'anon rw');
  assert.is(kindOf(map('4', 'r-xp', '/usr/bin/node', 10, 0)), 'file');
  assert.is(kindOf(map('5', 'rw-p', '/usr/bin/node', 10, 4)), 'file (written)');
  assert.equal(byKind([map('1', 'rw-p', '', 1024), map('2', 'rw-p', '', 512), map('3', 'rw-p', '', 0)]), { 'anon rw': { mb: 1.5, count: 2 } });
});

test('growth: what grew since the last reading, new mappings whole, largest first', () => {
  const before = [map('a', 'rw-p', '[heap]', 1024), map('b', 'rw-p', '', 2048)];
  const after = [map('a', 'rw-p', '[heap]', 3072), map('b', 'rw-p', '', 1024), map('c', 'rw-p', '', 1024)];
  assert.equal(growth(before, after).map((g) => [g.start, g.grewMB]), [['a', 2], ['c', 1]]);
});

test('an idle process: its mappings add up to its rollup', async () => {
  if (!linux) { console.log('  skipped: no /proc/self/smaps (not Linux)'); return; }
  // A child that does nothing between the two readings: this test process runs every
  // test file in one heap, and its RSS moved by more than 8 MB between two reads in CI.
  const child = spawn(process.execPath, ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the idle child ended (${code})`)));
    });
    const maps = readSmaps(child.pid!);
    const rollup = readRollup(child.pid!);
    assert.ok(maps.length > 10);
    const rss = maps.reduce((n, m) => n + m.rss, 0);
    assert.ok(Math.abs(rss - rollup.Rss) < 2 * 1024, `${rss} kB in smaps, ${rollup.Rss} kB in smaps_rollup`);
    assert.ok(maps.some((m) => kindOf(m) === 'file'));
  } finally {
    child.kill();
  }
  assert.equal(readSmaps(2 ** 22 + 1), []);
});

test('memory-probe.mjs: a process loaded with it answers SIGUSR2 with a line of its memory', async () => {
  if (!linux) { console.log('  skipped: no /proc (not Linux)'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-probe-'));
  const file = join(dir, 'probe.jsonl');
  const child = spawn(process.execPath, ['--import', resolve(repoRoot, 'tools/bench/memory-probe.mjs'), '-e', 'console.log("ready"); setInterval(() => {}, 1000)'], {
    env: { ...process.env, WASMIG_MEMORY_PROBE: file, WASMIG_MEMORY_PROBE_GC: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    // Imported modules run before the script: once it prints, SIGUSR2 has its handler (before, it ends the process).
    await new Promise((resolveReady) => child.stdout.once('data', resolveReady));
    const line = await probe(child.pid!, file);
    assert.ok(line, 'no line from the probe');
    assert.is(line.pid, child.pid);
    assert.ok((line.usage as { rss: number }).rss > 0);
    assert.ok(Array.isArray((line.spaces as Record<string, number[]>).code_space));
    assert.is(line.workers, 0);
    assert.ok((line.live as { heapUsed: number }).heapUsed > 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
