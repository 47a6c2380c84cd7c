/**
 * Memories grow without detaching a buffer (src/exec/memory-object.ts): a program that
 * grows its memory on the interpreter, is snapshotted and resumed (the restore grows
 * the new memory too), runs in a process whose V8 "array buffer detaching" protector
 * stays intact, so that the run loops' typed-array accesses keep their fast form.
 *
 * The child is plain Node on a bundle of the sources (`helpers/protector-child.ts`).
 */
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSharedMemory, MEMORIES_SHARED, newMemoryObject } from '../../src/exec/index.ts';
import { repoRoot } from '../helpers/cli.ts';
import { runProtectorChild } from '../helpers/protector-child.ts';

const CHILD = `
import { loadModuleFile, Program } from ${JSON.stringify(resolve(repoRoot, 'src/program/index.ts'))};
import { MEMORIES_SHARED } from ${JSON.stringify(resolve(repoRoot, 'src/exec/index.ts'))};
const chunks = [];
const stdout = (bytes) => { chunks.push(Buffer.from(bytes)); };
const wasm = process.argv[2];
const compiled = loadModuleFile(wasm);
const first = Program.instantiate(compiled, { args: ['bigmem.wasm', '8'], stdout });
first.start('_start');
// Far enough for malloc to have grown the memory (8 MiB more), not to the end.
const outcome = first.run({ budget: 20000 });
const grownPages = first.store.state.memories[0].memory.buffer.byteLength / 65536;
const resumed = Program.resume(first.snapshot(), { module: compiled, stdout });
let end;
do end = resumed.run({ budget: 1 << 24 }); while (end.kind === 'paused');
console.log(JSON.stringify({ shared: MEMORIES_SHARED, paused: outcome.kind, grownPages, end: end.kind, status: end.status, output: Buffer.concat(chunks).toString() }));
`;

test('a memory that grows, and one restored from a snapshot, detach no buffer', async () => {
  const r = await runProtectorChild(CHILD, [resolve(repoRoot, 'test/programs/bigmem.wasm')]);
  assert.is(r.status, 0, r.stderr);
  const result = r.result as { shared: boolean; paused: string; grownPages: number; end: string; status: number; output: string };
  assert.is(result.paused, 'paused');
  assert.ok(result.grownPages >= 128, `the memory grew before the snapshot (${result.grownPages} pages)`);
  assert.is(result.end, 'exited');
  assert.is(result.status, 0);
  assert.match(result.output, /allocated 8 MiB/);
  if (!result.shared) {
    console.log('  skipped: this host makes no shared memories, so growing one detaches its buffer');
    return;
  }
  assert.not.ok(r.detached, 'V8 reported a detached buffer');
});

test('memories are shared where the host allows, with the limit as their maximum; memory64 ones are not', () => {
  const m = newMemoryObject(1, undefined, 300);
  assert.is(isSharedMemory(m), MEMORIES_SHARED);
  assert.is(m.grow(299), 1);
  const before = m.buffer;
  if (MEMORIES_SHARED) {
    assert.throws(() => m.grow(1), 'a shared memory reaches its limit');
    assert.is(before.byteLength, 300 * 65536, 'its buffer is not detached by a grow');
  }
  const declared = newMemoryObject(0, 5, 65536);
  assert.is(declared.grow(5), 0);
  assert.throws(() => declared.grow(1));
  assert.is(isSharedMemory(newMemoryObject(1, undefined, 65536, true)), false);
});

test.run();
