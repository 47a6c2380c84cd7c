/** A module that uses only the legacy exception instructions, for the native tier's tests and benchmark. */
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from './assemble.ts';
import { ModuleBuilder, u32 } from './module-builder.ts';

const { i32, i64, f64 } = ValType;

/**
 * Tags $e (i32) and $f (i64 f64); imports `env.note (i32)` (a host call, a safepoint)
 * and `env.exit (i32)` (which may throw, as WASI's proc_exit does). Functions, i32 -> i32:
 * - $leaf(x): counts x down in a loop (loop headers: safepoints), then x >= 5 ? throw $e(10x) : x;
 * - $mid(x): try { $leaf(x) + 1 } catch $e { v + 100; x == 7: rethrow } (no safepoint in the handler);
 * - $h(x): try { $mid(x) } catch $e { $slow(v) + 3, noted; x == 7: rethrow } (a handler with calls and loops);
 * - $g(x): try { $h(x) } catch_all { $slow(x) + 1000 } (a catch_all with safepoints);
 * - $dl(x): try { try { $leaf(x) } delegate 0 } catch_all { -1 }, and a `catch $f` that never matches;
 * - $main(n): the sum of $g(i) + $dl(i) for i < n, in a loop;
 * - $quit(x): try { env.exit(x) } catch_all { env.note(-1) }; 0;
 * - $bench(n): n times $b3(i) caught, throw and catch across 3 frames (no safepoint in the handler);
 * - $raise(x): throw $e(x), caught by none.
 */
export function legacyExceptionModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tI = b.type([i32], [i32]);
  const tV = b.type([i32], []);
  const e = b.tag(b.type([i32], []));
  const f = b.tag(b.type([i64, f64], []));
  const note = b.importFunc('env', 'note', tV);
  const exit = b.importFunc('env', 'exit', tV);
  const first = exit + 1;
  const leaf = first, slow = first + 1, mid = first + 2, h = first + 3, g = first + 4, dl = first + 5;
  const main = first + 6, quit = first + 7, b1 = first + 8, b2 = first + 9, b3 = first + 10, bench = first + 11, raise = first + 12;
  const fn = (text: string, locals: ValType[] = []): number => b.func(tI, assemble(text), locals);
  fn(`local.get 0 local.set 1 loop local.get 1 i32.const 1 i32.sub local.tee 1 i32.const 0 i32.gt_s br_if 0 end
      local.get 0 i32.const 5 i32.ge_s if local.get 0 i32.const 10 i32.mul throw ${e} end local.get 0 end`, [i32]);
  fn(`loop local.get 1 local.get 0 i32.add local.set 1 local.get 0 i32.const 1 i32.sub local.tee 0 i32.const 0 i32.gt_s br_if 0 end local.get 1 end`, [i32]);
  fn(`try i32 local.get 0 call ${leaf} i32.const 1 i32.add
      catch ${e} i32.const 100 i32.add local.get 0 i32.const 7 i32.eq if rethrow 1 end end end`);
  fn(`try i32 local.get 0 call ${mid}
      catch ${e} local.set 1 local.get 1 call ${note} local.get 1 call ${slow} i32.const 3 i32.add
        local.get 0 i32.const 7 i32.eq if rethrow 1 end end end`, [i32]);
  fn(`try i32 local.get 0 call ${h} catch_all local.get 0 call ${slow} i32.const 1000 i32.add end end`);
  fn(`try i32 try i32 local.get 0 call ${leaf} delegate 0 catch ${f} drop drop i32.const -2 catch_all i32.const -1 end end`);
  fn(`loop local.get 2 local.get 1 call ${g} i32.add local.get 1 call ${dl} i32.add local.set 2
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_s br_if 0 end local.get 2 end`, [i32, i32]);
  fn(`try local.get 0 call ${exit} catch_all i32.const -1 call ${note} end i32.const 0 end`);
  // Three frames: $b3 throws, $b2 and $b1 pass it on, $bench catches it.
  fn(`local.get 0 call ${b2} i32.const 1 i32.add end`);
  fn(`local.get 0 call ${b3} i32.const 2 i32.add end`);
  fn(`local.get 0 i32.const 1 i32.and if local.get 0 throw ${e} end local.get 0 end`);
  fn(`loop try i32 local.get 1 call ${b1} catch ${e} end local.get 2 i32.add local.set 2
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_s br_if 0 end local.get 2 end`, [i32, i32]);
  fn(`local.get 0 throw ${e} end`);
  for (const [name, index] of Object.entries({ leaf, mid, h, g, dl, main, quit, bench, raise })) b.export(name, 'func', index);
  void u32;
  return b.build();
}

/**
 * The throwing part alone, with no imports (for `wasmig run` and the benchmark): tag $e
 * (i32); $bench(n): for i < n, try { $b1(i) } catch $e, summed, where $b1 calls $b2
 * calls $b3, which throws $e(i) for odd i (three frames between throw and catch);
 * $raise(x): throw $e(x), caught by none.
 */
export function legacyThrowModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tI = b.type([i32], [i32]);
  const e = b.tag(b.type([i32], []));
  const fn = (text: string, locals: ValType[] = []): number => b.func(tI, assemble(text), locals);
  const b1 = 0, b2 = 1, b3 = 2;
  fn(`local.get 0 call ${b2} i32.const 1 i32.add end`);
  fn(`local.get 0 call ${b3} i32.const 2 i32.add end`);
  fn(`local.get 0 i32.const 1 i32.and if local.get 0 throw ${e} end local.get 0 end`);
  const bench = fn(`loop try i32 local.get 1 call ${b1} catch ${e} end local.get 2 i32.add local.set 2
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_s br_if 0 end local.get 2 end`, [i32, i32]);
  const raise = fn(`local.get 0 throw ${e} end`);
  b.export('bench', 'func', bench);
  b.export('raise', 'func', raise);
  return b.build();
}
