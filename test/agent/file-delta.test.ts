/**
 * The files of in-memory directories in a live migration's pre-copy (`file-delta.ts`):
 * rounds taken while notes.c runs send the files changed since the last round (a large
 * seed file once, in the first), the final's state goes without any file's bytes, and
 * the target, given the rounds and the final, finishes the program as an uninterrupted
 * run does, its files included. A corrupt file delta is one line.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFileDelta, encodeFileDelta, FileStore } from '../../src/agent/file-delta.ts';
import { Precopy } from '../../src/agent/precopy-source.ts';
import { Arrival } from '../../src/agent/precopy-target.ts';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { compressBlock, decodeSnapshot } from '../../src/snapshot/index.ts';
import { listMemFs } from '../../src/wasi/index.ts';
import type { MemFsState } from '../../src/wasi/index.ts';
import { repoRoot } from '../helpers/cli.ts';

const compiled = loadModule(readFileSync(resolve(repoRoot, 'test/programs/notes.wasm')));
const ARGS = ['notes.wasm', 'lines=30', 'work=2000'];
const BIG = 2 * 1024 * 1024;

/** A seed with a large file of incompressible bytes. */
function seed(): MemFsState {
  const big = new Uint8Array(BIG);
  let x = 0x12345678;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    big[i] = x & 0xff;
  }
  return { maxBytes: 8 * BIG, nextIno: 3, nodes: [{ ino: 1, type: 'dir', atim: 0n, mtim: 0n, ctim: 0n, entries: [['big.bin', 2]] }, { ino: 2, type: 'file', atim: 0n, mtim: 0n, ctim: 0n, data: big }] };
}

/** notes.c with output in `out`, pausing when its output shows `pause.at`. */
function start(out: string[], pause: { at?: string }): Program {
  const program: Program = Program.instantiate(compiled, {
    args: ARGS, env: {}, memDirs: [{ guest: '/data', files: seed() }], tier: 'interp',
    stdout: (d) => {
      const text = new TextDecoder().decode(d);
      out.push(text);
      if (pause.at !== undefined && text.includes(pause.at)) program.requestPause();
    },
    stderr: () => {},
  });
  program.start('_start');
  return program;
}

function runUntil(program: Program, pause: { at?: string }, at: string): void {
  pause.at = at;
  const outcome = program.run();
  assert.is(outcome.kind, 'paused', `paused at ${at}`);
}

function toEnd(program: Program): void {
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  assert.is(outcome.kind, 'exited');
}

function files(program: Program): string[] {
  const mem = program.wasi.captureState().preopens[0]!.mem!;
  return listMemFs(mem).map((f) => `${f.path} ${f.size}`);
}

test('a large file crosses in the first round only; the final state carries no file bytes; the target ends as an uninterrupted run', () => {
  const reference: string[] = [];
  const whole = start(reference, {});
  toEnd(whole);
  const expectedFiles = files(whole);
  whole.wasi.close();

  const out: string[] = [];
  const pause: { at?: string } = {};
  const source = start(out, pause);
  runUntil(source, pause, 'wrote 5\n');
  const precopy = new Precopy(source, undefined);
  const first = precopy.round(1);
  assert.is(first.deltas.length, 2, 'one memory delta, then the files');
  assert.ok(first.bytes >= BIG, `the first round sends the seed (${first.bytes} bytes)`);
  assert.ok(first.deltas[1]!.length > BIG * 0.9, 'incompressible: it is there');
  runUntil(source, pause, 'wrote 12\n');
  const second = precopy.round(2);
  assert.ok(second.deltas[1]!.length < 4096, `the second round sends only the notes (${second.deltas[1]!.length} bytes)`);
  runUntil(source, pause, 'wrote 18\n');
  const final = precopy.final(3);
  assert.ok(final.snapshot.length < 256 * 1024, `the final's state goes without the seed (${final.snapshot.length} bytes)`);
  const state = decodeSnapshot(final.snapshot).state;
  const sent = state.wasi!.preopens[0]!.mem!.nodes.filter((n) => n.type === 'file');
  assert.ok(sent.length >= 2 && sent.every((n) => n.type === 'file' && n.data.length === 0), 'every file\'s bytes left out');
  source.wasi.close();

  const rest: string[] = [];
  const arrival = new Arrival(compiled, undefined, { tier: 'interp', stdout: (d) => { rest.push(new TextDecoder().decode(d)); }, stderr: () => {} });
  arrival.apply(first.deltas);
  arrival.apply(second.deltas);
  const { program } = arrival.complete(final.snapshot, final.deltas, final.digests);
  try {
    toEnd(program);
    assert.is(out.join('') + rest.join(''), reference.join(''));
    assert.equal(files(program), expectedFiles);
    assert.ok(expectedFiles.includes(`big.bin ${BIG}`));
  } finally {
    program.wasi.close();
  }
});

test('file deltas: round trip, and corrupt ones refused in one line', () => {
  const files = [{ preopen: 1, ino: 7, data: new Uint8Array([1, 2, 3]) }, { preopen: 0, ino: 2 ** 40, data: new Uint8Array(0) }];
  assert.equal(decodeFileDelta(encodeFileDelta(files)), files);
  const oneLine = (re: RegExp) => (e: Error) => e instanceof SnapshotError && re.test(e.message) && !e.message.includes('\n');
  const raw = (bytes: number[]) => compressBlock(new Uint8Array(bytes));
  assert.throws(() => decodeFileDelta(raw([1, 0, 0, 0])), oneLine(/file 0 is cut short/));
  assert.throws(() => decodeFileDelta(raw([0, 0, 0, 0, 9])), oneLine(/bytes after its last file/));
  assert.throws(() => decodeFileDelta(raw([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0])), oneLine(/no inode number/));
  assert.throws(() => decodeFileDelta(new Uint8Array([1, 2])), oneLine(/too short for LZ4/));
  // The store fills only bytes left out, walking an unvalidated state with care.
  const store = new FileStore();
  store.apply(encodeFileDelta(files));
  const state = { preopens: [{ guest: 'a' }, { guest: 'b', mem: { nodes: [null, { type: 'file', ino: 7, data: new Uint8Array(0) }, { type: 'file', ino: 8, data: new Uint8Array([9]) }] } }] };
  store.fill(state);
  store.fill(null);
  store.fill({ preopens: 'no' });
  assert.equal((state.preopens[1]!.mem!.nodes[1] as { data: Uint8Array }).data, new Uint8Array([1, 2, 3]));
  assert.equal((state.preopens[1]!.mem!.nodes[2] as { data: Uint8Array }).data, new Uint8Array([9]));
});

test.run();
