/**
 * The fast code against the exact code, in lock step: three machines run the same
 * program, one on the exact code only, one on the fast code, one on the fast code
 * compiled to JavaScript from the start (`exec/js-tier/`), and are paused at the same
 * instruction counts all along the run. At every pause their live state (pc, frames,
 * every slot below the stack pointer, instruction count, memory, globals) must be identical: the fast
 * code may only change how fast the machine gets there, never where it is.
 */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import { exactReturnPc } from '../../src/exec/index.ts';
import type { ThreadState } from '../../src/exec/index.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { ValType } from '../../src/wasm/types.ts';

const PAUSES = Number(process.env['FAST_CODE_PAUSES'] ?? 400);

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function liveState(t: ThreadState): string {
  const frames: number[] = [];
  for (let d = 0; d < t.depth; d++) {
    const caller = t.frames[3 * d];
    frames.push(caller, caller < 0 ? 0 : exactReturnPc(t, caller, t.frames[3 * d + 1]), t.frames[3 * d + 2]);
  }
  // Low words only: an i32 in a slot leaves its high word undefined, and the two codes
  // leave different garbage there (the snapshot stores i32 values without it). An i64
  // going wrong shows in its low word, the memory or the output soon enough.
  const slots = Array.from(t.s32.subarray(0, 2 * t.sp).filter((_, i) => (i & 1) === 0));
  return JSON.stringify({ pc: t.pc, sp: t.sp, fp: t.fp, funcAddr: t.funcAddr, depth: t.depth, frames, instructions: t.instructions, slots });
}

function lockStep(wasmPath: string, args: string[], seed: number): void {
  const compiled = loadModule(readFileSync(new URL(wasmPath, import.meta.url)));
  const devNull = openSync('/dev/null', 'w');
  try {
    const make = (fast: boolean, jsAfter?: number): Program => {
      // A clock that ticks 1 ms per reading, so that both machines see the same times.
      let now = 0n;
      let program: Program | undefined;
      const wasi = new WasiHost({ args, env: {}, preopens: [], stdout: devNull, stderr: devNull });
      const clock_time_get = (_id: number, _precision: bigint, resultPtr: number): number => {
        now += 1_000_000n;
        new DataView(program!.store.state.memories[0]!.memory.buffer).setBigUint64(resultPtr, now, true);
        return 0;
      };
      const preview1 = { ...wasi.imports['wasi_snapshot_preview1'], clock_time_get };
      program = Program.withWasi(compiled, wasi, { imports: { wasi_snapshot_preview1: preview1 }, limits: { fast, jsAfter } });
      return program;
    };
    const exact = make(false);
    const fast = make(true);
    // And the JavaScript tier from the first block of every function on (js-tier/).
    const js = make(true, 0);
    // How long is the whole run? (exact machine, once, to place the pauses)
    const probe = make(false);
    const end = probe.run();
    const total = probe.store.thread.instructions;
    assert.ok(total > PAUSES, `${wasmPath}: ${total} instructions`);
    const rand = prng(seed);
    const points = new Set<number>([1, 2, 3, total - 1]);
    while (points.size < PAUSES) points.add(1 + Math.floor(rand() * (total - 1)));
    for (const k of [...points].sort((a, b) => a - b)) {
      const a = exact.run({ until: k });
      // As in slots, the high word of a 32-bit global is undefined.
      const bits = (p: Program): number[][] => p.store.state.globals.map((g) => (g.type === ValType.i64 || g.type === ValType.f64 ? [g.lo, g.hi] : [g.lo]));
      for (const [name, other] of [['fast', fast], ['js', js]] as const) {
        assert.equal(other.run({ until: k }), a, `${name}: outcome at ${k}`);
        assert.is(liveState(other.store.thread), liveState(exact.store.thread), `${name}: state after ${k} instructions`);
        const ma = exact.store.state.memories[0]!.memory.buffer, mb = other.store.state.memories[0]!.memory.buffer;
        assert.ok(Buffer.compare(new Uint8Array(ma), new Uint8Array(mb)) === 0, `${name}: memory after ${k} instructions`);
        assert.equal(bits(other), bits(exact), `${name}: globals after ${k}`);
      }
    }
    assert.equal(fast.run(), end);
    assert.equal(js.run(), end);
    assert.equal(exact.run(), end);
    assert.is(fast.store.thread.instructions, total);
    assert.is(js.store.thread.instructions, total);
  } finally {
    closeSync(devNull);
  }
}

test('CoreMark: fast and exact code agree at 400 pause points', () => {
  lockStep('../../coremark/coremark.wasm', ['coremark.wasm', '0', '0', '0x66', '1'], 1);
});

test('qsort and printf of floats: fast and exact agree at 400 pause points', () => {
  lockStep('../programs/qsort_printf.wasm', ['qsort_printf.wasm'], 2);
});

test('deep recursion through call_indirect: fast and exact agree', () => {
  lockStep('../programs/recursion.wasm', ['recursion.wasm', '2000'], 3);
});

test('memcpy/memmove/memset (bulk memory): fast and exact agree', () => {
  lockStep('../programs/memcopy.wasm', ['memcopy.wasm'], 4);
});

test.run();
