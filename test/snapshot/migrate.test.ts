/**
 * Migrate-at-every-instruction over the C corpus: pause a program at many points spread
 * over its whole run, snapshot it, resume each snapshot in a fresh machine, and check it
 * ends exactly as the uninterrupted run: same stdout, exit status (or trap), final memory
 * and files. Where running every resumed copy to the end would cost too much (a long
 * tail after the interesting part), a resumed copy instead runs to the next pause point
 * and its whole state must equal the uninterrupted run's there; by determinism that is
 * the same guarantee, checked in pieces.
 *
 * Sizes: WASMIG_SNAPSHOT_POINTS (default 200 per program), WASMIG_SNAPSHOT_DEEP (the
 * depth of the deep-recursion case, default 100000).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, InstructionReader } from '../../src/binary/index.ts';
import { FuncKind } from '../../src/exec/index.ts';
import type { Program } from '../../src/program/index.ts';
import type { Module } from '../../src/wasm/types.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import type { ProgramCase } from '../programs/cases.ts';
import {
  caseFixture, compiledOf, copyTree, envInt, findCase, finish, resumeProgram, Sandbox, spreadPoints, startProgram,
} from '../helpers/snapshot-runs.ts';
import type { Ending } from '../helpers/snapshot-runs.ts';

const POINTS = envInt('WASMIG_SNAPSHOT_POINTS', 200);
/** Stride of `Plan.observe`, in instructions. */
const OBSERVE = 500;
const DEEP = envInt('WASMIG_SNAPSHOT_DEEP', 100_000);

/** Files and directories under `dir`, with contents: what a run leaves behind. */
function treeDigest(dir: string): string {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = statSync(join(dir, path));
      if (st.isDirectory()) { out.push(`${path}/`); walk(path); } else out.push(`${path} ${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')}`);
    }
  };
  walk('');
  return out.join('\n');
}

/** The parts of a state that must be equal between two machines at the same instruction. */
function comparable(s: CanonicalState): unknown {
  const memories = s.memories.map((m) => ({ pages: m.pages, stored: m.stored, data: createHash('sha256').update(m.data).digest('hex') }));
  const wasi = s.wasi ? { ...s.wasi, clock: null } : null;
  return { ...s, memories, wasi };
}

interface Snap { at: number; bytes: Uint8Array; outLength: number; tree: string }

interface Plan {
  case: ProgramCase;
  /** Pause points, given the uninterrupted run's instruction count. */
  points(total: number): number[];
  /**
   * Called every `OBSERVE` instructions of the uninterrupted run, paused there: lets a
   * plan find where the interesting parts are (the deepest recursion, a copy loop).
   */
  observe?(p: Program): void;
  /** Instructions between two calls of `observe` (default `OBSERVE`). */
  observeEvery?: number;
  /** Which points run to the end (the others run to the next point and compare states). */
  toEnd(at: number, total: number): boolean;
  /**
   * Compare final memories (default true). file_io's memory holds stat results of its
   * own files (inode numbers, change times), which differ between any two runs in two
   * directories, uninterrupted ones included; its files and output are compared instead.
   */
  compareMemory?: boolean;
}

/**
 * Pauses a program at every point, resumes each snapshot in a fresh machine (a fresh
 * store, WASI host and copy of its directory tree as it was at the pause) and checks it.
 * Returns the snapshots, for callers that look at them further.
 */
async function migrateEverywhere(plan: Plan): Promise<{ snaps: Snap[]; reference: Ending; states: CanonicalState[] }> {
  const c = plan.case;
  const fixture = await caseFixture(c);
  const boxes: Sandbox[] = [];
  try {
    // The uninterrupted run.
    const refBox = new Sandbox(fixture.root, c);
    boxes.push(refBox);
    const ending = (e: Ending): Ending => (plan.compareMemory === false ? { ...e, memory: '' } : e);
    const refProgram = startProgram(c, refBox);
    if (plan.observe) while (refProgram.run({ budget: plan.observeEvery ?? OBSERVE }).kind === 'paused') plan.observe(refProgram);
    const reference = ending(finish(refProgram));
    const refOut = refBox.output();
    const refTree = treeDigest(join(refBox.dir, 'tree'));
    const total = reference.instructions;

    // The same run, paused at each point: a snapshot, the output so far, the files as they are.
    const capBox = new Sandbox(fixture.root, c);
    boxes.push(capBox);
    const capture = startProgram(c, capBox);
    const points = plan.points(total);
    assert.ok(points.length > 0);
    const snaps: Snap[] = [];
    for (const at of points) {
      const outcome = capture.run({ until: at });
      assert.equal(outcome, { kind: 'paused', instructions: at }, `${c.name}: pause at ${at}`);
      const tree = mkdtempSync(join(tmpdir(), 'wasmig-snaptree-'));
      copyTree(join(capBox.dir, 'tree'), tree);
      snaps.push({ at, bytes: capture.snapshot(), outLength: capBox.output().length, tree });
    }
    const captureEnd = ending(finish(capture));
    assert.equal(captureEnd, reference, `${c.name}: pausing changed the run`);
    const states = snaps.map((s) => decodeSnapshot(s.bytes).state);

    // Each snapshot, resumed in a fresh machine.
    snaps.forEach((snap, i) => {
      const box = new Sandbox(snap.tree, c);
      try {
        const resumed = resumeProgram(c, box, snap.bytes);
        const where = `${c.name}: resumed at ${snap.at} of ${total}`;
        if (plan.toEnd(snap.at, total) || i === snaps.length - 1) {
          const end = ending(finish(resumed));
          assert.equal(end, reference, where);
          assert.ok(Buffer.concat([refOut.subarray(0, snap.outLength), box.output()]).equals(refOut), `${where}: stdout differs`);
          assert.is(treeDigest(join(box.dir, 'tree')), refTree, `${where}: files differ`);
        } else {
          const next = snaps[i + 1];
          assert.equal(resumed.run({ until: next.at }), { kind: 'paused', instructions: next.at }, where);
          assert.equal(comparable(resumed.captureState()), comparable(states[i + 1]), `${where}: state at ${next.at} differs`);
          assert.ok(box.output().equals(refOut.subarray(snap.outLength, next.outLength)), `${where}: stdout differs`);
        }
        resumed.wasi.close();
      } finally {
        box.dispose();
      }
    });
    for (const s of snaps) rmSync(s.tree, { recursive: true, force: true });
    return { snaps, reference, states };
  } finally {
    for (const b of boxes) b.dispose();
    await fixture.cleanup();
  }
}

const everyPointToEnd = (): boolean => true;
/** The first and last instructions, and `POINTS` spread over the whole run. */
const wholeRun = (total: number): number[] => spreadPoints(0, total - 1, POINTS, [0, 1, 2, total - 2, total - 1]);

test('hello: every point of the run (first and last instruction included)', async () => {
  const { snaps } = await migrateEverywhere({ case: findCase('hello'), points: wholeRun, toEnd: everyPointToEnd });
  assert.ok(snaps.length >= Math.min(POINTS, 200));
});

test('exit_code: proc_exit status survives every migration', async () => {
  await migrateEverywhere({ case: findCase('exit_code_42'), points: wholeRun, toEnd: everyPointToEnd });
});

test('trap: a trap after a migration is the same trap', async () => {
  const { reference } = await migrateEverywhere({ case: findCase('trap'), points: wholeRun, toEnd: everyPointToEnd });
  assert.is(reference.trap, 'unreachable');
});

test('file_io: files open for reading and writing are reopened at their offsets', async () => {
  const { states } = await migrateEverywhere({ case: findCase('file_io'), points: wholeRun, toEnd: everyPointToEnd, compareMemory: false });
  // Some pauses landed while the program had a file open, for reading and for writing.
  const openFiles = states.flatMap((s) => s.wasi!.fds.filter((f) => f.kind === 'file'));
  assert.ok(openFiles.some((f) => f.read && f.write && f.offset > 0n), 'a file open read-write at a non-zero offset');
  assert.ok(openFiles.some((f) => f.read && !f.write), 'a file open for reading only');
  assert.ok(openFiles.some((f) => !f.read && f.write), 'a file open for writing only');
});

/** Watches a run for its deepest moment. */
function deepest(): { at: number; observe(p: Program): void } {
  let depth = 0;
  const d = {
    at: 0,
    observe(p: Program): void {
      const t = p.store.thread;
      if (t.depth > depth) { depth = t.depth; d.at = t.instructions; }
    },
  };
  return d;
}

test('recursion: pauses at every depth of a 1,000-deep recursion', async () => {
  const c = findCase('recursion_shallow');
  const bottom = deepest();
  const { states } = await migrateEverywhere({
    case: c, observe: bottom.observe, points: (total) => spreadPoints(0, total - 1, POINTS, [0, 1, bottom.at, total - 1]), toEnd: everyPointToEnd,
  });
  assert.ok(Math.max(...states.map((s) => s.frames.length)) >= 950, "a pause near the bottom of the recursion");
});

test(`recursion: pauses at the deepest point of a ${DEEP}-deep recursion`, async () => {
  const base = findCase('recursion');
  const c: ProgramCase = { ...base, name: `recursion_${DEEP}`, args: [String(DEEP)] };
  const bottom = deepest();
  const { states } = await migrateEverywhere({
    case: c,
    observe: bottom.observe,
    // Every stop of a deep thread costs in proportion to its depth: look rarely.
    observeEvery: 20_000,
    points: (total) => spreadPoints(0, total - 1, 0, [1, bottom.at - 2500, bottom.at, bottom.at + 2500, total - 1]),
    toEnd: everyPointToEnd,
  });
  assert.ok(Math.max(...states.map((s) => s.frames.length)) >= DEEP * 0.9, 'a snapshot near the deepest point');
});

/**
 * A chain of `hops` migrations: each hop resumes the previous hop's snapshot in a fresh
 * machine (in the same directory tree: the job moves, its files stay), runs a stretch
 * and pauses again; the last one runs to the end.
 */
async function chain(c: ProgramCase, hops: number, compareMemory: boolean): Promise<void> {
  const fixture = await caseFixture(c);
  const refBox = new Sandbox(fixture.root, c);
  const box = new Sandbox(fixture.root, c);
  try {
    const strip = (e: Ending): Ending => (compareMemory ? e : { ...e, memory: '' });
    const reference = strip(finish(startProgram(c, refBox)));
    let program = startProgram(c, box);
    for (let h = 1; h <= hops; h++) {
      const until = Math.floor((reference.instructions * h) / (hops + 1));
      assert.equal(program.run({ until }), { kind: 'paused', instructions: until });
      const snapshot = program.snapshot({ embedModule: h % 2 === 0 });
      program.wasi.close();
      program = resumeProgram(c, box, snapshot);
    }
    assert.equal(strip(finish(program)), reference);
    assert.ok(box.output().equals(refBox.output()), 'stdout differs');
    assert.is(treeDigest(join(box.dir, 'tree')), treeDigest(join(refBox.dir, 'tree')));
  } finally {
    refBox.dispose();
    box.dispose();
    await fixture.cleanup();
  }
}

test('a chain of 10 hops: qsort_printf ends with the same output and memory', async () => {
  await chain(findCase('qsort_printf'), 10, true);
});

test('a chain of 10 hops: file_io ends with the same output and files', async () => {
  await chain(findCase('file_io'), 10, false);
});

/** Byte ranges of the loops of a module that contain a memory.copy. */
function copyLoops(m: Module): [number, number][] {
  const ranges: [number, number][] = [];
  for (const body of m.codes) {
    const r = new InstructionReader(m.bytes, body.codeStart, body.codeEnd);
    const ins = createInstr();
    const blocks: { op: number; start: number; copies: boolean }[] = [];
    while (r.pos < body.codeEnd) {
      r.read(ins);
      if (ins.op === 0x02 || ins.op === 0x03 || ins.op === 0x04) blocks.push({ op: ins.op, start: ins.offset, copies: false });
      else if (ins.op === 0x100 + 10 && blocks.length) blocks[blocks.length - 1].copies = true;
      else if (ins.op === 0x0b && blocks.length) {
        const b = blocks.pop()!;
        if (b.copies && b.op === 0x03) ranges.push([b.start, ins.offset]);
        if (b.copies && blocks.length) blocks[blocks.length - 1].copies = true;
      }
    }
  }
  return ranges;
}

test('memcopy: pauses all over a memory.copy-heavy loop', async () => {
  const c = findCase('memcopy');
  const ranges = copyLoops(compiledOf(c).module);
  assert.ok(ranges.length > 0, 'the module has a loop with memory.copy');
  // Where the run is inside that loop, seen from the uninterrupted run.
  let first = -1, last = -1;
  const observe = (p: Program): void => {
    const t = p.store.thread;
    const fn = p.store.state.funcs[t.funcAddr];
    const at = fn.kind === FuncKind.wasm ? fn.compiled.offsets[t.pc] : -1;
    if (ranges.some(([a, b]) => at > a && at < b)) { if (first < 0) first = t.instructions; last = t.instructions; }
  };
  const region = (): [number, number] => [first - OBSERVE, last + OBSERVE];
  const { states } = await migrateEverywhere({
    case: c,
    observe,
    points: (total) => {
      assert.ok(first > 0, 'the copy loop was seen');
      return spreadPoints(region()[0], region()[1], POINTS, [0, total - 1]);
    },
    // The tail after the loop is long (checksums over 2 MiB): the first and last points
    // and two in the loop run to the end, the others to the next pause point.
    toEnd: (at, total) => at === 0 || at === total - 1 || at === region()[0] || at === region()[1],
  });
  assert.ok(states.length >= Math.min(POINTS, 200));
});

test.run();
