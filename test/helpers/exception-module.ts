/** A module that throws and catches across frames, for the exception-handling tests. */
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32, u32 } from './module-builder.ts';

const { i32, exnref } = ValType;
const EMPTY = 0x40;

/**
 * $leaf(x): x >= 5 ? throw $e(10x) : x;
 * $mid(x): legacy try { $leaf(x) + 1 } catch $e { v + 100, and for x == 7 rethrow };
 * $top(x): try_table (catch_ref $e) around $mid(x): the payload + 1000 (the exnref
 *          saved in a local), then throw_ref of it inside a try_table (catch_all);
 * $main(n): the sum of $top(i) for i < n (1765 for n = 10);
 * $dl(x), $dl2(x): delegate to an outer try's catch_all (-1), past a catch (not -2);
 * $raise(x): throw $e(x) with no handler; $nullRef: throw_ref of null.
 */
export function exceptionModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tI = b.type([i32], [i32]);
  const tTag = b.type([i32], []);
  const tH = b.type([], [i32, exnref]);
  const e = b.tag(tTag);
  const leaf = b.func(tI, [
    0x20, 0, 0x41, 5, 0x4e, 0x04, EMPTY, 0x20, 0, 0x41, 10, 0x6c, 0x08, e, 0x0b,
    0x20, 0, 0x0b,
  ]);
  const mid = b.func(tI, [
    0x06, i32, 0x20, 0, 0x10, ...u32(leaf), 0x41, 1, 0x6a,
    0x07, e, 0x41, ...s32(100), 0x6a, 0x20, 0, 0x41, 7, 0x46, 0x04, EMPTY, 0x09, 1, 0x0b,
    0x0b, 0x0b,
  ]);
  const top = b.func(tI, [
    0x02, i32, //                                           block $out (result i32)
    0x02, ...s32(tH), //                                      block $h (result i32 exnref)
    0x1f, EMPTY, 1, 0x01, e, 0, //                              try_table (catch_ref $e $h)
    0x20, 0, 0x10, ...u32(mid), 0x0c, 2, //                       br $out with $mid(x)
    0x0b, 0x00, //                                              end; unreachable
    0x0b, //                                                  end $h: payload, exnref
    0x21, 1, 0x41, ...s32(1000), 0x6a, //                     local.set 1; + 1000
    0x02, EMPTY, 0x1f, EMPTY, 1, 0x02, 0, 0x20, 1, 0x0a, 0x0b, 0x0b, // throw_ref caught by catch_all
    0x0b, 0x0b,
  ], [exnref]);
  const main = b.func(tI, [
    0x03, EMPTY,
    0x20, 2, 0x20, 1, 0x10, ...u32(top), 0x6a, 0x21, 2,
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0,
    0x0b, 0x20, 2, 0x0b,
  ], [i32, i32]);
  const dl = b.func(tI, [
    0x06, i32, 0x06, i32, 0x20, 0, 0x10, ...u32(leaf), 0x18, 0,
    0x19, 0x41, ...s32(-1), 0x0b, 0x0b,
  ]);
  const dl2 = b.func(tI, [
    0x06, i32,
    0x06, i32, 0x06, i32, 0x20, 0, 0x10, ...u32(leaf), 0x18, 1,
    0x07, e, 0x1a, 0x41, ...s32(-2), 0x0b,
    0x19, 0x41, ...s32(-1), 0x0b, 0x0b,
  ]);
  const raise = b.func(tI, [0x20, 0, 0x08, e, 0x0b]);
  const nullRef = b.func(b.type([], []), [0xd0, exnref, 0x0a, 0x0b]);
  b.export('main', 'func', main).export('top', 'func', top).export('dl', 'func', dl).export('dl2', 'func', dl2);
  b.export('raise', 'func', raise).export('nullRef', 'func', nullRef).export('e', 'tag', e);
  return b.build();
}

