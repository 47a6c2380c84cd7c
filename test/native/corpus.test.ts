/**
 * The C corpus on the native tier: straight runs give the expected output, and runs
 * paused at random moments (random polls), snapshotted and resumed in a fresh program,
 * on the interpreter or on the native tier, end exactly as the uninterrupted run; on the
 * native tier also in the two steps a live migration's target takes (the program
 * allocated and its memory written first, the rest of the state restored around it).
 *
 * WASMIG_NATIVE_PAUSES (default 3): random pause points per case and resuming tier.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { nativeTierOf } from '../../src/native/index.ts';
import { Program } from '../../src/program/index.ts';
import { decodeSnapshot, readSnapshotHeader } from '../../src/snapshot/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { argvOf, isExact } from '../programs/cases.ts';
import type { ProgramCase } from '../programs/cases.ts';
import { caseFixture, compiledOf, envInt, findCase, Sandbox } from '../helpers/snapshot-runs.ts';

const PAUSES = envInt('WASMIG_NATIVE_PAUSES', 3);

interface Result {
  stdout: string;
  status: number;
  trap: string | undefined;
}

function settle(run: () => void): { status: number; trap: string | undefined } {
  try {
    run();
    return { status: 0, trap: undefined };
  } catch (error) {
    if (!(error instanceof Trap)) throw error;
    return { status: 134, trap: error.message };
  }
}

function start(c: ProgramCase, box: Sandbox): Program {
  return Program.instantiate(compiledOf(c), {
    args: argvOf(c), env: { ...c.env }, preopens: box.preopens(), stdout: box.stdout, stdin: box.stdin, tier: 'native',
  });
}

/** The whole run on the native tier, and how many polls it made (each one a possible pause). */
async function straight(c: ProgramCase): Promise<Result & { polls: number }> {
  const fx = await caseFixture(c);
  const box = new Sandbox(fx.root, c);
  try {
    const p = start(c, box);
    const tier = nativeTierOf(p, { pollInterval: 1 });
    let status = 0;
    const s = settle(() => {
      const o = p.run();
      if (o.kind === 'exited') status = o.status;
      assert.is.not(o.kind, 'paused');
    });
    return { stdout: box.output().toString('utf8'), status: s.trap ? s.status : status, trap: s.trap, polls: tier.polls };
  } finally {
    box.dispose();
    await fx.cleanup();
  }
}

/** How the paused program is resumed: in one step, or in the two a live migration takes. */
type Resume = Tier | 'native in two steps';

/** `a`'s state restored around a copy of its memories, written first (as `Arrival` does). */
function resumeInTwoSteps(a: Program, options: { module: ReturnType<typeof compiledOf> } & Parameters<typeof Program.shell>[1]): Program {
  const shell = Program.shell(options.module, { ...options, tier: 'native' });
  for (let i = 0; i < shell.memoryCount; i++) {
    const from = new Uint8Array(a.store.state.memories[a.instance.state.memAddrs[i]].memory.buffer);
    shell.memory(i, from.byteLength).set(from);
  }
  const { state } = decodeSnapshot(a.snapshot({ omitMemory: true }));
  return Program.finish(shell, state);
}

/**
 * Paused natively at poll `at`, snapshotted, resumed by `how` in a fresh program.
 * `everyLoop`: every loop header polls (not every 1024th iteration), so that pauses
 * land inside short kernels too. `v128` says whether the snapshot held a v128.
 */
async function hop(c: ProgramCase, at: number, how: Resume, everyLoop = false): Promise<Result & { paused: boolean; v128: boolean; caught: boolean }> {
  const fx = await caseFixture(c);
  const box = new Sandbox(fx.root, c);
  try {
    const a = start(c, box);
    const native = nativeTierOf(a, everyLoop ? { pollInterval: 1, rewrite: { loopPoll: 'global' } } : { pollInterval: 1 });
    let n = 0;
    native.pollHook = () => ++n === at;
    let status = 0;
    let paused = false;
    let s = settle(() => {
      const o = a.run();
      if (o.kind === 'exited') status = o.status;
      paused = o.kind === 'paused';
    });
    let v128 = false;
    let caught = false;
    if (paused) {
      const options = { module: compiledOf(c), preopens: box.preopens(), stdout: box.stdout, stdin: box.stdin };
      const snapshot = a.snapshot();
      // Format v2 is written only when the state holds a v128.
      v128 = readSnapshotHeader(snapshot).version === 2;
      // A frame inside a legacy catch holds its exception: the state carries it.
      caught = (decodeSnapshot(snapshot).state.exceptions?.length ?? 0) > 0;
      const b = how === 'native in two steps' ? resumeInTwoSteps(a, options) : Program.resume(snapshot, { ...options, tier: how });
      s = settle(() => {
        const o = b.run();
        if (o.kind === 'exited') status = o.status;
        assert.is.not(o.kind, 'paused');
      });
    }
    return { stdout: box.output().toString('utf8'), status: s.trap ? s.status : status, trap: s.trap, paused, v128, caught };
  } finally {
    box.dispose();
    await fx.cleanup();
  }
}

let seed = envInt('WASMIG_NATIVE_SEED', 12345);
function random(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return 1 + ((seed >>> 4) % n);
}

const CASES = ['hello', 'args_env', 'file_io', 'clocks', 'random', 'recursion', 'qsort_printf', 'memcopy', 'simd', 'vectorize', 'exit_code_42', 'trap', 'sandbox', 'musttail', 'cxx_exceptions'];

for (const name of CASES) {
  test(`${name}: native, then paused at random polls and resumed on both tiers, and in two steps`, async () => {
    const c = findCase(name);
    const whole = await straight(c);
    if (isExact(c.expected)) {
      const want = typeof c.expected.stdout === 'string' ? c.expected.stdout : Buffer.from(c.expected.stdout).toString('utf8');
      assert.is(whole.stdout, want);
      assert.is(whole.status, c.expected.status);
    }
    assert.ok(whole.polls > 0, 'the run polls');
    let pausedRuns = 0;
    for (const how of ['interp', 'native', 'native in two steps'] as const) {
      for (let i = 0; i < PAUSES; i++) {
        const at = random(whole.polls);
        const r = await hop(c, at, how);
        if (r.paused) pausedRuns++;
        const where = `paused at poll ${at} of ${whole.polls}, resumed on ${how}`;
        assert.is(r.stdout, whole.stdout, where);
        assert.is(r.status, whole.status, where);
        assert.is(r.trap, whole.trap, where);
      }
    }
    assert.ok(pausedRuns > 0, 'at least one run paused');
  });
}

for (const name of ['simd', 'vectorize']) {
  test(`${name}: paused natively inside its SIMD kernels, v128 values live, resumed on both tiers`, async () => {
    const c = findCase(name);
    const whole = await straight(c);
    const polls = await countEveryLoopPolls(c);
    let withV128 = 0;
    for (let k = 1; k <= 5; k++) {
      const at = Math.floor((polls * k) / 6);
      for (const how of ['interp', 'native'] as const) {
        const r = await hop(c, at, how, true);
        const where = `paused at poll ${at} of ${polls}, resumed on ${how}`;
        assert.ok(r.paused, where);
        if (r.v128) withV128++;
        assert.is(r.stdout, whole.stdout, where);
        assert.is(r.status, whole.status, where);
      }
    }
    assert.ok(withV128 >= 4, `${withV128} of 10 pauses held a v128`);
  });
}

test('cxx_exceptions: paused natively inside its catch handlers (the exception in the state), resumed on both tiers: Node\'s output', async () => {
  const c = findCase('cxx_exceptions');
  const whole = await straight(c);
  assert.is(whole.stdout, 'sum 89700, caught 200, destroyed 374850\n');
  // Polls at the entries of functions with loops (free, called by __cxa_end_catch from main's handler) land inside it.
  let caught = 0;
  for (let at = 1; at <= Math.min(whole.polls, 30); at++) {
    for (const how of ['interp', 'native'] as const) {
      const r = await hop(c, at, how);
      const where = `paused at poll ${at} of ${whole.polls}, resumed on ${how}`;
      assert.ok(r.paused, where);
      if (r.caught) caught++;
      assert.is(r.stdout, whole.stdout, where);
      assert.is(r.status, whole.status, where);
    }
  }
  assert.ok(caught >= 4, `${caught} of the pauses inside a handler`);
});

/** Polls of a whole native run in which every loop header polls. */
async function countEveryLoopPolls(c: ProgramCase): Promise<number> {
  const fx = await caseFixture(c);
  const box = new Sandbox(fx.root, c);
  try {
    const p = start(c, box);
    const tier = nativeTierOf(p, { pollInterval: 1, rewrite: { loopPoll: 'global' } });
    assert.is.not(p.run().kind, 'paused');
    return tier.polls;
  } finally {
    box.dispose();
    await fx.cleanup();
  }
}

test.run();
