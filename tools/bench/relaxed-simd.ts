/**
 * Relaxed SIMD on the interpreter, each instruction side by side with its plain twin (the
 * Wasm 2.0 instruction whose result it gives where the spec allows a choice) or, for the
 * multiply-adds and the dot product, the plain sequence a program would write instead:
 * a loop of n iterations whose body is the instruction on v128 locals. One process; in
 * each round the two variants of a pair run back to back (their order alternating from
 * round to round), each for at least `--target-ms` of CPU after a warm-up. Reported: CPU
 * nanoseconds per iteration (medians) and the ratio relaxed / plain, the median of the
 * per-round ratios with their range. Checksums of both variants are printed, not compared
 * (the plain sequences compute other things).
 *
 * Usage: npx tsx tools/bench/relaxed-simd.ts [--rounds R] [--target-ms T] [--exact]
 */
import { readFileSync } from 'node:fs';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { OPS, PREFIX_FC, PREFIX_FD } from '../../src/wasm/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { cpuMs, median } from './stats.ts';

/** [name, relaxed body, plain body]: bodies read the v128 locals 1, 2, 3 and set local 1. */
const PAIRS: [string, string, string][] = [
  ['f32x4.relaxed_madd', 'g1 g2 g3 f32x4.relaxed_madd s1', 'g1 g2 f32x4.mul g3 f32x4.add s1'],
  ['f64x2.relaxed_madd', 'g1 g2 g3 f64x2.relaxed_madd s1', 'g1 g2 f64x2.mul g3 f64x2.add s1'],
  ['i8x16.relaxed_swizzle', 'g1 g2 i8x16.relaxed_swizzle s1', 'g1 g2 i8x16.swizzle s1'],
  ['i32x4.relaxed_laneselect', 'g1 g2 g3 i32x4.relaxed_laneselect s1', 'g1 g2 g3 v128.bitselect s1'],
  ['f32x4.relaxed_min', 'g1 g2 f32x4.relaxed_min s1', 'g1 g2 f32x4.min s1'],
  ['i32x4.relaxed_trunc_f32x4_s', 'g1 i32x4.relaxed_trunc_f32x4_s s1', 'g1 i32x4.trunc_sat_f32x4_s s1'],
  ['i16x8.relaxed_q15mulr_s', 'g1 g2 i16x8.relaxed_q15mulr_s s1', 'g1 g2 i16x8.q15mulr_sat_s s1'],
  ['i32x4.relaxed_dot_i8x16_i7x16_add_s', 'g1 g2 g3 i32x4.relaxed_dot_i8x16_i7x16_add_s s1', 'g1 g2 i32x4.dot_i16x8_s g3 i32x4.add s1'],
];

const CODES = new Map<string, number>();
for (const info of OPS) if (info !== undefined) CODES.set(info.name, info.code);

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** An instruction without immediates, by its name in the opcode table. */
function op(name: string): number[] {
  const code = CODES.get(name);
  if (code === undefined) throw new Error(`no instruction ${name}`);
  return code < PREFIX_FC ? [code] : code < PREFIX_FD ? [0xfc, ...leb(code - PREFIX_FC)] : [0xfd, ...leb(code - PREFIX_FD)];
}

/** A body in the short text of `PAIRS`: gK / sK are local.get / local.set K, the rest names. */
function body(text: string): number[] {
  return text.split(' ').flatMap((t) => (t[0] === 'g' && /^\d$/.test(t[1] ?? '') ? [0x20, Number(t[1])]
    : t[0] === 's' && /^\d$/.test(t[1] ?? '') ? [0x21, Number(t[1])] : op(t)));
}

function v128Const(bytes: number[]): number[] {
  return [0xfd, 0x0c, ...bytes];
}

const f32Bytes = (xs: number[]): number[] => [...new Uint8Array(new Float32Array(xs).buffer)];

/** `loop(n) -> i32`: n iterations of `text` over three v128 locals, then lane 0 of local 1. */
function loopModule(text: string): Uint8Array {
  const code = [
    1, 3, ValType.v128, // three v128 locals
    ...v128Const(f32Bytes([1.0001, 0.999, 0.5, -0.25])), 0x21, 1,
    ...v128Const(f32Bytes([0.999, 1.0001, 0.75, 0.5])), 0x21, 2,
    ...v128Const(Array.from({ length: 16 }, (_, k) => (k * 7) & 0x7f)), 0x21, 3,
    0x02, 0x40, 0x03, 0x40,
    0x20, 0, 0x45, 0x0d, 1,
    ...body(text),
    0x20, 0, 0x41, 1, 0x6b, 0x21, 0,
    0x0c, 0,
    0x0b, 0x0b,
    0x20, 1, ...op('i32x4.extract_lane'), 0,
    0x0b,
  ];
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, ValType.i32, 1, ValType.i32]),
    ...section(3, [1, 0]),
    ...section(7, [1, 4, ...[...'loop'].map((c) => c.charCodeAt(0)), 0x00, 0]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
}

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

function main(argv: string[]): void {
  const rounds = Number(arg(argv, '--rounds', '7'));
  const targetMs = Number(arg(argv, '--target-ms', '40'));
  const fast = !argv.includes('--exact');
  const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`relaxed SIMD vs plain on the ${fast ? 'fast' : 'exact'} code, ${rounds} rounds of >= ${targetMs} ms CPU each; load average ${load()}`);
  console.log('| relaxed instruction | plain twin | relaxed ns/iteration | plain ns/iteration | relaxed / plain (rounds) | checksums |');
  console.log('|---|---|---:|---:|---:|---|');
  for (const [name, relaxed, plain] of PAIRS) {
    const variants = [relaxed, plain].map((text) => {
      const store = new Store({ fast });
      const inst = store.instantiate(loadModule(loopModule(text)));
      const addr = inst.exports.get('loop')!.addr;
      return { run: (n: number): bigint => store.invokeRaw(addr, [BigInt(n)])[0] };
    });
    // Calibrate each variant (warming it up as it goes).
    const iterations = variants.map((v) => {
      let n = 1000;
      while (cpuMs(() => v.run(n)) < targetMs && n < 1 << 26) n *= 2;
      return n;
    });
    const ns: number[][] = [[], []];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      const t = [0, 0];
      for (const k of order) t[k] = (cpuMs(() => variants[k].run(iterations[k])) * 1e6) / iterations[k];
      ns[0].push(t[0]); ns[1].push(t[1]);
      ratios.push(t[0] / t[1]);
    }
    const sums = variants.map((v) => `0x${(Number(v.run(1000)) >>> 0).toString(16)}`).join(' / ');
    const plainName = plain.split(' ').filter((t) => t.includes('.')).join(' + ');
    console.log(`| ${name} | ${plainName} | ${median(ns[0]).toFixed(0)} | ${median(ns[1]).toFixed(0)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}) | ${sums} |`);
  }
  console.log(`load average at the end ${load()}`);
}

main(process.argv.slice(2));
