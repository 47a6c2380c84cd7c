/**
 * A small SIMD program for the run loop, snapshot and tier tests: a loop over a v128
 * local that sits between scalar locals (so slot offsets differ from local indices),
 * `select` of two v128, a mutable v128 global, a block that carries a v128, and a call
 * whose v128 parameter precedes a scalar one. `expectedKernel` computes the same in JS.
 */
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from './assemble.ts';
import { ModuleBuilder } from './module-builder.ts';

const { i32, i64, v128 } = ValType;

/** `v128.const` of four i32 lanes, as assembler text. */
function i32x4(lanes: number[]): string {
  const bytes: number[] = [];
  for (const x of lanes) for (let k = 0; k < 4; k++) bytes.push((x >>> (8 * k)) & 0xff);
  return `v128.const ${bytes.join(' ')}`;
}

/** The initial value of the module's v128 global. */
export const KERNEL_GLOBAL = [1, 2, 3, 4];

/**
 * Exports `kernel(n: i32) -> i32`, `lanesum(v: v128, k: i32) -> i32`, `splat(x: i32) -> v128`
 * and the global `g`.
 */
export function simdKernelModule(): Uint8Array {
  const b = new ModuleBuilder();
  const g = b.global(v128, true, [...assemble(i32x4(KERNEL_GLOBAL)), 0x0b]);
  const lanesum = b.func(b.type([v128, i32], [i32]), assemble(`
    local.get 0 i32x4.extract_lane 0 local.get 0 i32x4.extract_lane 3 i32.add local.get 1 i32.add end`));
  // locals: 0 n (param), 1 i, 2 acc (v128), 3 ticks (i64)
  const kernel = b.func(b.type([i32], [i32]), assemble(`
    block
      loop
        local.get 1 local.get 0 i32.ge_s br_if 1
        local.get 2 local.get 1 i32x4.splat i32x4.add
        local.get 2 global.get ${g} i32x4.add
        local.get 1 i32.const 1 i32.and
        select
        local.set 2
        local.get 3 i64.const 1 i64.add local.set 3
        local.get 1 i32.const 1 i32.add local.set 1
        br 0
      end
    end
    local.get 2 global.set ${g}
    block v128 local.get 2 br 0 end
    local.get 3 i32.wrap_i64
    call ${lanesum}
    end`), [i32, v128, i64]);
  const splat = b.func(b.type([i32], [v128]), assemble('local.get 0 i32x4.splat end'));
  b.export('kernel', 'func', kernel);
  b.export('lanesum', 'func', lanesum);
  b.export('splat', 'func', splat);
  b.export('g', 'global', g);
  return b.build();
}

/** What `kernel(n)` returns, and the global's lanes after it (from `KERNEL_GLOBAL`). */
export function expectedKernel(n: number): { result: number; global: number[] } {
  const acc = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) acc[k] = (acc[k] + ((i & 1) === 1 ? i : KERNEL_GLOBAL[k])) | 0;
  return { result: (acc[0] + acc[3] + n) | 0, global: acc };
}
