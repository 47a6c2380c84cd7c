/**
 * In-memory directories in snapshots: a program that keeps a file open in one (notes.c)
 * paused mid-run on either tier, snapshotted, resumed on either tier in a fresh host with
 * no directory of its own, and run to the end prints what an uninterrupted run prints and
 * leaves the same files. The state crosses bit-exact (re-captured at once, it is the
 * same, file bytes, times and inodes included); `inspect` lists the files; old snapshots
 * (WASI state version 1) still load.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { decodeSnapshot, inspectSnapshot } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { listMemFs } from '../../src/wasi/index.ts';
import type { MemFsState } from '../../src/wasi/index.ts';
import { repoRoot } from '../helpers/cli.ts';

const notes = loadModule(readFileSync(resolve(repoRoot, 'test/programs/notes.wasm')));
const ARGS = ['notes.wasm', 'lines=30', 'work=3000'];

/** A seed: one file the program lists (with its checksum) before it starts. */
function seed(): MemFsState {
  const t = 1_700_000_000_000_000_000n;
  return {
    maxBytes: 1 << 20, nextIno: 3,
    nodes: [
      { ino: 1, type: 'dir', atim: t, mtim: t, ctim: t, entries: [['seed.txt', 2]] },
      { ino: 2, type: 'file', atim: t, mtim: t, ctim: t, data: new TextEncoder().encode('planted before the start\n') },
    ],
  };
}

/** Started (not run) on `tier`, its output into `out`; paused at the first safepoint after it prints `pauseAfter`. */
function start(tier: Tier, out: string[], pauseAfter?: string): Program {
  const program: Program = Program.instantiate(notes, {
    args: ARGS, env: {}, memDirs: [{ guest: '/data', files: seed() }], tier,
    stdout: (d) => {
      const text = new TextDecoder().decode(d);
      out.push(text);
      if (pauseAfter !== undefined && text.includes(pauseAfter)) program.requestPause();
    },
    stderr: () => {},
  });
  program.start('_start');
  return program;
}

function toEnd(program: Program): number {
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  assert.is(outcome.kind, 'exited');
  return outcome.kind === 'exited' ? outcome.status : -1;
}

/** The files left behind: paths, types and bytes (times differ between any two runs). */
function files(program: Program): string[] {
  const mem = program.wasi.captureState().preopens[0]?.mem;
  assert.ok(mem, 'the in-memory directory is in the state');
  return listMemFs(mem).map((f) => `${f.path} ${f.type} ${f.size}`);
}

function withoutClock(s: CanonicalState): unknown {
  return { ...s, wasi: s.wasi ? { ...s.wasi, clock: null } : null };
}

const reference: string[] = [];
const referenceProgram = start('interp', reference);
const referenceStatus = toEnd(referenceProgram);
const referenceFiles = files(referenceProgram);
referenceProgram.wasi.close();

test('the uninterrupted run reads its seed, writes its notes and reads them back', () => {
  const text = reference.join('');
  assert.is(referenceStatus, 0);
  assert.match(text, /^seed seed\.txt 25 bytes [0-9a-f]{16}$/m);
  assert.match(text, /read back 741 bytes:\nnote 1 [0-9a-f]{16}\n/);
  assert.match(text, /^ls count 9$/m);
  assert.equal(referenceFiles, ['count file 9', 'notes.txt file 741', 'scratch.moved file 3', 'seed.txt file 25']);
});

for (const [from, to] of [['interp', 'native'], ['native', 'interp'], ['native', 'native']] as [Tier, Tier][]) {
  test(`paused on ${from} with its file open, resumed on ${to} with no directory of its own: the same output and files`, () => {
    const out: string[] = [];
    // Paused where the output shows it is mid-run: after note 12, its file open.
    const program = start(from, out, 'wrote 12\n');
    let outcome = program.run();
    while (outcome.kind === 'paused' && !out.join('').includes('wrote 12\n')) outcome = program.run();
    assert.is(outcome.kind, 'paused');
    const bytes = program.snapshot({ embedModule: true });
    const before = program.captureState();
    program.wasi.close();
    const notesFd = before.wasi?.fds.find((f) => f.path === 'notes.txt');
    assert.ok(notesFd, 'notes.txt is open in the snapshot');
    // Notes 1-9 take 24 bytes, the later ones 25: at least 12 written, fewer than 30.
    assert.ok(notesFd.offset >= 291n && notesFd.offset < 741n, `its offset (${notesFd.offset}) is mid-run`);
    const described = inspectSnapshot(bytes);
    assert.is(described.memDirs[0]?.guest, '/data');
    assert.ok(described.memDirs[0]?.files.some((f) => f.path === 'notes.txt' && f.size === Number(notesFd.offset)));

    const rest: string[] = [];
    const resumed = Program.resume(bytes, { tier: to, stdout: (d) => { rest.push(new TextDecoder().decode(d)); }, stderr: () => {} });
    try {
      // Bit-exact: re-captured at once, the state is the one captured (clocks move on).
      assert.equal(withoutClock(resumed.captureState()), withoutClock(decodeSnapshot(bytes).state));
      assert.is(toEnd(resumed), referenceStatus);
      assert.is(out.join('') + rest.join(''), reference.join(''));
      assert.equal(files(resumed), referenceFiles);
    } finally {
      resumed.wasi.close();
    }
  });
}

test('snapshots of older builds (WASI state version 1) still load and run', () => {
  for (const name of ['pre-eh-v1.snap', 'pre-eh-v2-simd.snap']) {
    const bytes = readFileSync(resolve(repoRoot, 'test/snapshot/fixtures', name));
    const decoded = decodeSnapshot(bytes);
    assert.is((decoded.state.wasi as { version?: number } | null)?.version ?? 1, 1, `${name} holds a version-1 WASI state`);
    const program = Program.resume(bytes);
    try {
      assert.is(program.wasi.captureState().version, 1, 'and a host without in-memory directories still writes version 1');
      const outcome = program.run();
      assert.is(outcome.kind, 'returned', name);
    } finally {
      program.wasi.close();
    }
  }
});

test.run();
