/**
 * A standby's checkpoint store: checkpoints apply in order onto copies, and one that is
 * out of order, corrupt, or claims output it does not carry never replaces the one held.
 * The owner's side is simulated with the same delta machinery it uses (`Precopy`): a
 * shadow image, the changed blocks XORed with it, LZ4.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointStore } from '../../src/agent/checkpoint-store.ts';
import type { CheckpointMeta } from '../../src/agent/checkpoint-store.ts';
import { OutputLog } from '../../src/agent/output-log.ts';
import type { FinalPackage } from '../../src/agent/package.ts';
import { compressBlock, encodeBlockDelta, MemoryImage } from '../../src/snapshot/index.ts';
import { SnapshotError } from '../../src/errors/index.ts';
import { Seeded } from '../helpers/seeded.ts';
import { decodeFileDelta, encodeFileDelta } from '../../src/agent/file-delta.ts';

const SIZE = 64 * 1024;

/** An owner: a memory, its output log, and a shadow of what the standby holds. */
class Owner {
  memory = new Uint8Array(SIZE);
  log = new OutputLog();
  shadow = MemoryImage.empty(SIZE);
  sentSeq = 0;
  number = 0;

  write(at: number, bytes: number[], line: string): void {
    this.memory.set(bytes, at);
    this.log.append(1, Buffer.from(line));
  }

  checkpoint(full: boolean, epoch = 1): { meta: CheckpointMeta; pkg: FinalPackage } {
    if (full) this.shadow = MemoryImage.empty(SIZE);
    const delta = this.shadow.extract(this.memory, this.shadow.changedBlocks(this.memory));
    const wire = this.shadow.xor(delta);
    this.shadow.apply(delta);
    const log = full ? this.log.toPortable() : this.log.portableSince(this.sentSeq);
    this.sentSeq = this.log.next;
    this.number++;
    return {
      meta: { number: this.number, full, epoch, epochCounter: epoch, seq: this.log.next, digests: [this.shadow.digest()] },
      pkg: { deltas: [compressBlock(encodeBlockDelta(wire))], log, snapshot: Uint8Array.of(this.number) },
    };
  }
}

function store(): CheckpointStore {
  return new CheckpointStore(() => [MemoryImage.empty(SIZE)]);
}

function held(s: CheckpointStore): { memory: Uint8Array; lines: string[]; snapshot: number } {
  const parts = s.restoreParts();
  return { memory: new Uint8Array(parts.images[0]), lines: parts.log.since(0).map((e) => Buffer.from(e.data).toString()), snapshot: parts.snapshot[0] };
}

test('checkpoints apply in order: the store holds the owner\'s memory, output and state at the last one', () => {
  const owner = new Owner();
  const s = store();
  assert.not.ok(s.complete);
  const random = new Seeded(7);
  owner.write(100, [1, 2, 3], 'one\n');
  const first = owner.checkpoint(true);
  s.apply(first.meta, first.pkg);
  for (let i = 0; i < 5; i++) {
    owner.write(random.int(SIZE - 8), [i + 1, 9, 9, 9], `line ${i}\n`);
    const { meta, pkg } = owner.checkpoint(false);
    s.apply(meta, pkg);
  }
  const h = held(s);
  assert.equal(h.memory, owner.memory);
  assert.equal(h.lines, ['one\n', 'line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n']);
  assert.is(h.snapshot, 6);
  assert.is(s.number, 6);
  assert.is(s.seq, 6);
});

test('a checkpoint out of order, corrupt, or short of its output leaves the one held as it was', () => {
  const owner = new Owner();
  const s = store();
  owner.write(0, [5], 'a\n');
  const first = owner.checkpoint(true);
  s.apply(first.meta, first.pkg);
  const before = held(s);

  owner.write(5000, [6], 'b\n');
  const second = owner.checkpoint(false);
  owner.write(9000, [7], 'c\n');
  const third = owner.checkpoint(false);
  assert.throws(() => s.apply(third.meta, third.pkg), (e: unknown) => e instanceof SnapshotError && /does not follow/.test((e as Error).message));

  const corrupt = { ...second.pkg, deltas: [compressBlock(encodeBlockDelta({ byteLength: SIZE, blockSize: 4096, blocks: Uint32Array.of(1), data: new Uint8Array(4096).fill(0xee) }))] };
  assert.throws(() => s.apply(second.meta, corrupt), /does not match the owner's digests/);

  const short = { ...second.pkg, log: new OutputLog().portableSince(0) };
  assert.throws(() => s.apply(second.meta, short), /output ends at/);

  assert.throws(() => s.apply({ ...second.meta, epoch: 2 }, second.pkg), /does not follow/);
  assert.equal(held(s), before);
  assert.is(s.number, 1);

  // The real one still applies on top of what was held.
  s.apply(second.meta, second.pkg);
  s.apply(third.meta, third.pkg);
  assert.equal(held(s).memory, owner.memory);
});

test('a full checkpoint replaces what was held (a new owner, or a standby that missed one)', () => {
  const owner = new Owner();
  const s = store();
  owner.write(0, [1], 'x\n');
  const one = owner.checkpoint(true);
  s.apply(one.meta, one.pkg);
  owner.write(70, [2], 'y\n');
  owner.checkpoint(false); // lost on the way
  owner.write(8000, [3], 'z\n');
  const full = owner.checkpoint(true, 3);
  s.apply(full.meta, full.pkg);
  assert.equal(held(s).memory, owner.memory);
  assert.equal(held(s).lines, ['x\n', 'y\n', 'z\n']);
  assert.is(s.epoch, 3);
});

test('what a takeover restores from is a copy: the store keeps its own', () => {
  const owner = new Owner();
  const s = store();
  owner.write(3, [42], 'q\n');
  const c = owner.checkpoint(true);
  s.apply(c.meta, c.pkg);
  const parts = s.restoreParts();
  new Uint8Array(parts.images[0]).fill(1);
  parts.log.append(1, Buffer.from('more'));
  assert.equal(held(s).memory, owner.memory);
  assert.is(s.log.next, 1);
  assert.is(parts.deltas.length, 1);
});

test('in-memory directories\' files: each checkpoint adds what changed, a full one starts again, a takeover gets them all', () => {
  const owner = new Owner();
  const s = store();
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
  const withFiles = (c: { meta: CheckpointMeta; pkg: FinalPackage }, files: { preopen: number; ino: number; data: Uint8Array }[]) => ({ meta: c.meta, pkg: { ...c.pkg, deltas: [...c.pkg.deltas, encodeFileDelta(files)] } });
  const takeover = (): string[] => {
    const deltas = s.restoreParts().deltas;
    return deltas.length === 1 ? [] : decodeFileDelta(deltas[1]!).map((f) => `${f.preopen}:${f.ino}=${[...f.data].join(',')}`).sort();
  };
  let c = withFiles(owner.checkpoint(true), [{ preopen: 0, ino: 2, data: bytes(1, 2, 3) }, { preopen: 0, ino: 3, data: bytes(4) }]);
  s.apply(c.meta, c.pkg);
  assert.equal(takeover(), ['0:2=1,2,3', '0:3=4']);
  c = withFiles(owner.checkpoint(false), [{ preopen: 0, ino: 3, data: bytes(5, 6) }]);
  s.apply(c.meta, c.pkg);
  assert.equal(takeover(), ['0:2=1,2,3', '0:3=5,6'], 'the unchanged file kept, the changed one replaced');
  // A checkpoint that does not apply leaves the files held as they were.
  const bad = withFiles(owner.checkpoint(false), [{ preopen: 0, ino: 2, data: bytes(9) }]);
  assert.throws(() => s.apply({ ...bad.meta, digests: ['0'.repeat(64)] }, bad.pkg), (e: Error) => e instanceof SnapshotError && /does not match/.test(e.message));
  assert.equal(takeover(), ['0:2=1,2,3', '0:3=5,6']);
  owner.number = s.number;
  c = withFiles(owner.checkpoint(true), [{ preopen: 0, ino: 7, data: bytes(7) }]);
  s.apply(c.meta, c.pkg);
  assert.equal(takeover(), ['0:7=7'], 'a full checkpoint starts the files again');
  c = owner.checkpoint(true);
  s.apply(c.meta, c.pkg);
  assert.equal(takeover(), [], 'a job without in-memory directories: no files delta');
});

test.run();
