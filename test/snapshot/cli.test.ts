/**
 * The snapshot commands, each run in its own process: `run --pause-after`, `resume`
 * (pauses chain), `inspect`, `--snapshot-on-signal`, and clear errors for bad input.
 * Every process costs most of a second of CPU (TypeScript from source), so the tests
 * share their snapshots and keep the number of processes small.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModuleFile, Program } from '../../src/program/index.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import type { SnapshotDescription } from '../../src/snapshot/index.ts';
import { formatDescription } from '../../src/cli/commands/inspect.ts';
import { repoRoot } from '../helpers/cli.ts';
import { findCase, memoryHash, Sandbox } from '../helpers/snapshot-runs.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-snapcli-'));
const prog = (name: string): string => resolve(repoRoot, 'test/programs', `${name}.wasm`);
const golden = (name: string): string => readFileSync(resolve(repoRoot, 'test/programs/expected', `${name}.stdout`), 'utf8');
/** `node --import tsx main.ts`: one process (no tsx wrapper), so signals reach wasmig itself. */
const cliArgs = (args: readonly string[]): string[] => ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), ...args];

interface Result { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the CLI; with `stdoutFile`, its stdout goes to that file (appending) instead of a pipe. */
function wasmig(args: readonly string[], stdoutFile?: string): Result {
  const fd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'a');
  try {
    const r = spawnSync(process.execPath, cliArgs(args), { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, stdio: ['pipe', fd ?? 'pipe', 'pipe'] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Spawns the CLI; `onStdout` sees the output so far. Resolves when the process exits. */
function spawnCli(args: readonly string[], onStdout: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  const child = spawn(process.execPath, cliArgs(args), { cwd: repoRoot });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); onStdout(stdout, child); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((res) => child.on('exit', (status, signal) => res({ status, signal, stdout, stderr })));
}

/** A fresh directory with file_io's input, for one run. */
function workDir(name: string): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  writeFileSync(join(d, 'input.txt'), 'made by the host\n');
  return d;
}

const fileIoSnap = join(dir, 'file_io.snap');

test('run --pause-after while files are open, resume in a fresh process: the same output, status and files', () => {
  const w = workDir('paused');
  const first = wasmig(['run', '--pause-after', '150000', '--snapshot', fileIoSnap, '--dir', `${w}::.`, prog('file_io')]);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /^wasmig: paused after 150000 instructions in .+ \(function \d+ at byte 0x[0-9a-f]+\); snapshot written to .+file_io\.snap \(\d+ bytes\)\n$/);
  const state = decodeSnapshot(readFileSync(fileIoSnap)).state;
  assert.ok(state.wasi!.fds.some((f) => f.kind === 'file' && f.write), 'a file is open for writing at the pause');
  // The snapshot file alone resumes (the module is embedded).
  const rest = wasmig(['resume', '--dir', `${w}::.`, fileIoSnap]);
  assert.is(rest.status, 0, rest.stderr);
  assert.is(first.stdout + rest.stdout, golden('file_io'));
  assert.is(readFileSync(join(w, 'result.txt'), 'utf8'), 'file_io was here\n');
});

test('pauses chain (N counts from the start), the last one just before the last instruction', () => {
  // In this process: the uninterrupted run, and its memory just before its last instruction.
  const c = findCase('qsort_printf');
  const argv = [prog('qsort_printf')];
  const box = new Sandbox(mkdtempSync(join(dir, 'tree-')), c);
  const p = Program.instantiate(loadModuleFile(c.wasm), { args: argv, stdout: box.stdout });
  p.start();
  p.run();
  const total = p.store.thread.instructions;
  const q = Program.instantiate(loadModuleFile(c.wasm), { args: argv, stdout: box.stdout });
  q.start();
  q.run({ until: total - 1 });
  const expectedMemory = memoryHash(q);
  box.dispose();
  // In other processes: pause at a third, resume to just before the end, then finish
  // (a --pause-after beyond the end just ends, writing nothing). Their stdout is a file,
  // as above: the C library keeps what kind of file its stdout is in memory.
  const s1 = join(dir, 'q1.snap'), s2 = join(dir, 'q2.snap'), s3 = join(dir, 'q3.snap');
  const out = join(dir, 'q.stdout');
  const r1 = wasmig(['run', '--pause-after', String(Math.floor(total / 3)), '--snapshot', s1, prog('qsort_printf')], out);
  assert.is(r1.status, 0, r1.stderr);
  const r2 = wasmig(['resume', '--pause-after', String(total - 1), '--snapshot', s2, s1], out);
  assert.is(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, new RegExp(`paused after ${total - 1} instructions`));
  assert.is(memoryHash(Program.resume(readFileSync(s2))), expectedMemory);
  const r3 = wasmig(['resume', '--pause-after', String(total + 1000), '--snapshot', s3, s2], out);
  assert.is(r3.status, 0, r3.stderr);
  assert.not.ok(existsSync(s3), 'no snapshot when the program ends first');
  assert.is(readFileSync(out, 'utf8'), golden('qsort_printf'));
});

test('inspect --json has the stack, memory, open files and sizes; the text shows them', () => {
  const r = wasmig(['inspect', '--json', fileIoSnap]);
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as SnapshotDescription;
  assert.is(json.instructions, 150000);
  assert.ok(json.callStack.length > 1);
  assert.ok(json.openFiles.some((f) => f.kind === 'file'));
  assert.ok(json.sizes.module > 0);
  // The text form of the same description (formatted as `wasmig inspect` prints it).
  const text = formatDescription(fileIoSnap, json);
  for (const part of [
    /module\s+sha256 [0-9a-f]{64} \(embedded/, /paused in _start after 150000 instructions/, /call stack \(\d+ frames, innermost first\)/,
    /function \d+ at byte 0x/, /locals \[/, /memory 0 \d+ pages/, /open files:/, /fd +3 dir/, /size by part/,
  ]) assert.match(text, part);
});

test('bad snapshots and bad options: one clear line, no stack dump', () => {
  const junk = join(dir, 'junk.snap');
  writeFileSync(junk, 'this is not a snapshot, just some text that is long enough');
  const r = wasmig(['resume', junk]);
  assert.is(r.status, 1);
  assert.is(r.stderr, `wasmig: ${junk}: not a wasmig snapshot (bad magic bytes)\n`);
  // A snapshot without its module needs --module.
  const hello = Program.instantiate(loadModuleFile(prog('hello')), { args: ['hello'] });
  hello.start();
  hello.run({ until: 100 });
  const bare = join(dir, 'bare.snap');
  writeFileSync(bare, hello.snapshot());
  const noModule = wasmig(['resume', bare]);
  assert.is(noModule.status, 1);
  assert.match(noModule.stderr, /^wasmig: .*bare\.snap: the snapshot does not embed its module \(sha256 [0-9a-f]{64}\): pass the module\n$/);
  const usage = wasmig(['run', '--pause-after', '5', prog('hello')]);
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /--pause-after needs --snapshot FILE/);
});

test('--snapshot-on-signal: SIGUSR2 pauses and snapshots; the snapshot carries on elsewhere', async () => {
  const snap = join(dir, 'signal.snap');
  const args = ['lines=100000', 'work=3000'];
  let sent = false;
  const r = await spawnCli(['run', '--snapshot-on-signal', '--snapshot', snap, prog('ticker'), ...args], (out, child) => {
    if (!sent && out.includes('tick 1/')) { sent = true; child.kill('SIGUSR2'); }
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /paused after \d+ instructions in .* \(SIGUSR2\); snapshot written/);
  const at = decodeSnapshot(readFileSync(snap)).state.instructions;
  // Carry on in another process up to a later point; compare with one uninterrupted run.
  const until = at + 1_000_000;
  const snap2 = join(dir, 'signal2.snap');
  const r2 = wasmig(['resume', '--pause-after', String(until), '--snapshot', snap2, snap]);
  assert.is(r2.status, 0, r2.stderr);
  const c = { ...findCase('hello'), program: 'ticker', wasm: prog('ticker'), args };
  const box = new Sandbox(mkdtempSync(join(dir, 'tree-')), c);
  const ref = Program.instantiate(loadModuleFile(prog('ticker')), { args: [prog('ticker'), ...args], stdout: box.stdout, stderr: box.stdin });
  ref.start();
  assert.equal(ref.run({ until }), { kind: 'paused', instructions: until });
  const refOut = box.output().toString();
  box.dispose();
  assert.is(r.stdout + r2.stdout, refOut);
});

test('Ctrl-C still stops a program run with --snapshot-on-signal, and writes nothing', async () => {
  const snap = join(dir, 'sigint.snap');
  let sent = false;
  const r = await spawnCli(['run', '--snapshot-on-signal', '--snapshot', snap, prog('ticker'), 'lines=100000', 'work=3000'], (out, child) => {
    if (!sent && out.includes('tick 1/')) { sent = true; child.kill('SIGINT'); }
  });
  assert.ok(r.signal === 'SIGINT' || r.status === 130, `${r.signal} ${r.status}`);
  assert.not.ok(existsSync(snap));
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
