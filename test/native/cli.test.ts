/**
 * The native tier from the command line: `--tier`, native traps, and SIGUSR2 pausing a
 * natively running program into a snapshot that `wasmig resume` completes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../src/native/index.ts';
import { loadModuleFile, Program } from '../../src/program/index.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';
import { ModuleBuilder, name, u32 } from '../helpers/module-builder.ts';
import { ValType } from '../../src/wasm/types.ts';
import { writeFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-native-cli-'));
const prog = (name: string): string => resolve(repoRoot, 'test/programs', `${name}.wasm`);

interface Result { status: number | null; stdout: string; stderr: string }

/** Spawns `node --import tsx main.ts ARGS` (one process, so signals reach wasmig itself). */
function spawnCli(args: readonly string[], onStdout: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); onStdout(stdout, (s) => child.kill(s)); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((res) => child.on('exit', (status) => res({ status, stdout, stderr })));
}

/** What ticker prints when it runs to its end (run here, natively). */
function tickerReference(args: string[]): string {
  const out: Uint8Array[] = [];
  const wasi = new WasiHost({ args: [prog('ticker'), ...args], env: {}, preopens: [], stdout: (d) => { out.push(d); }, stderr: () => {} });
  const program = Program.withWasi(loadModuleFile(prog('ticker')), wasi, { tier: 'native' });
  program.start('_start');
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  assert.ok(outcome.kind === 'returned' || (outcome.kind === 'exited' && outcome.status === 0), JSON.stringify(outcome));
  return Buffer.concat(out).toString();
}

test('--tier native and auto run programs; interp too; a bad tier is a usage error', () => {
  for (const tier of ['native', 'auto', 'interp']) {
    const r = wasmig(['run', '--tier', tier, prog('hello')]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'Hello, wasmig!\n');
  }
  const bad = wasmig(['run', '--tier', 'jit', prog('hello')]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--tier jit: expected interp, native or auto/);
  const exact = wasmig(['run', '--tier', 'native', '--pause-after', '10', '--snapshot', join(dir, 'x.snap'), prog('hello')]);
  assert.is(exact.status, 2);
  assert.match(exact.stderr, /--pause-after counts instructions exactly/);
});

test('a trap in native code: the same message and backtrace as the interpreter\'s', () => {
  const native = wasmig(['run', '--tier', 'native', prog('trap')]);
  const interp = wasmig(['run', '--tier', 'interp', prog('trap')]);
  assert.is(native.status, 134);
  assert.is(native.stderr, interp.stderr);
  assert.match(native.stderr, /0: __original_main \(function \d+ at byte 0x[0-9a-f]+\)/);
});

test('call stack exhaustion in native code has a backtrace, as in the interpreter', () => {
  // deep(n) = deep(n + 1) + 1, called by _start: a runaway recursion.
  const b = new ModuleBuilder();
  const tDeep = b.type([ValType.i32], [ValType.i32]);
  const tStart = b.type([], []);
  const deep = b.func(tDeep, [0x20, 0, 0x41, 1, 0x6a, 0x10, 0, 0x41, 1, 0x6a, 0x0b]);
  const start = b.func(tStart, [0x41, 0, 0x10, deep, 0x1a, 0x0b]);
  b.memory(1);
  b.export('_start', 'func', start).export('memory', 'memory', 0);
  const names = [...u32(2), ...u32(deep), ...name('deep'), ...u32(start), ...name('start')];
  b.custom('name', [0x01, ...u32(names.length), ...names]);
  const path = join(dir, 'runaway.wasm');
  writeFileSync(path, b.build());
  for (const tier of ['native', 'interp']) {
    const r = wasmig(['run', '--tier', tier, path]);
    assert.is(r.status, 134, `${tier}: ${r.stderr}`);
    assert.match(r.stderr, /exhausted: call stack exhausted\nwasm backtrace:\n +0: deep \(function 0 at byte 0x[0-9a-f]+\)\n +1: deep \(function 0/, tier);
    // The outermost frames: deep's first call, then _start.
    assert.match(r.stderr, /: deep \(function 0 at byte 0x[0-9a-f]+\)\n +\d+: start \(function 1 at byte 0x[0-9a-f]+\)\n$/, tier);
  }
});

test('SIGUSR2 pauses a native run into a snapshot; wasmig resume completes it', async () => {
  const snap = join(dir, 'native-signal.snap');
  const args = ['lines=1000', 'work=200000'];
  let sent = false;
  const r = await spawnCli(['run', '--tier', 'native', '--snapshot-on-signal', '--snapshot', snap, prog('ticker'), ...args], (out, kill) => {
    if (!sent && out.includes('tick 1/')) { sent = true; kill('SIGUSR2'); }
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /\(SIGUSR2\); snapshot written/);
  const state = decodeSnapshot(readFileSync(snap)).state;
  assert.is(state.status, 'paused');
  assert.ok(state.frames.length > 0);
  assert.not.match(r.stdout, /done /, 'paused before the end');
  // The default tier (auto) resumes natively: the restored frames continue in the
  // interpreter, their calls go native. (Resuming on the interpreter is test/native/corpus's.)
  const r2 = wasmig(['resume', snap], { timeout: 120_000 });
  assert.is(r2.status, 0, r2.stderr);
  assert.is(r.stdout + r2.stdout, tickerReference(args));
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
