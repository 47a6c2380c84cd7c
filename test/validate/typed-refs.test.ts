/**
 * Typed function references (Wasm 3.0) in validation: a non-nullable local must be set
 * before it is read, within its block; `br_on_null` and `br_on_non_null` type their label
 * and what they leave; `(ref $t)` is a subtype of `funcref` and of `(ref null $t)`, not the
 * other way; `call_ref` takes a reference of its own type; types named must exist.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError, ValidationError } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { HeapType, refType, ValType } from '../../src/wasm/index.ts';
import type { RefType, ValType as ValTypeT } from '../../src/wasm/index.ts';
import { ModuleBuilder, u32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;
const ref = (heap: number, nullable = false): ValTypeT => refType(heap, nullable) as ValTypeT;
const END = 0x0b;

/** A module with type 0 = [] -> [i32] (a function $k returning 7, declared for ref.func) and one function of type `[params] -> [results]` with `locals` and `code`. */
function moduleWith(params: ValTypeT[], results: ValTypeT[], locals: ValTypeT[], code: number[]): Uint8Array {
  const b = new ModuleBuilder();
  const tk = b.type([], [i32]);
  const k = b.func(tk, [0x41, 7, END]);
  b.export('k', 'func', k);
  const f = b.func(b.type(params, results), code, locals);
  b.export('f', 'func', f);
  return b.build();
}

function refused(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => loadModule(bytes), (e: unknown) => e instanceof ValidationError && message.test((e as Error).message), String(message));
}

const tk = 0; // type index of () -> i32
const refK = ref(tk);
const nullRefK = ref(tk, true);

test('a non-nullable local read before any set is refused: "uninitialized local"', () => {
  refused(moduleWith([], [], [refK], [0x20, 0, 0x1a, END]), /uninitialized local/);
  // A nullable one starts null and may be read.
  loadModule(moduleWith([], [], [nullRefK], [0x20, 0, 0x1a, END]));
});

test('a local set or teed before it is read, in the same block or an inner one, is fine', () => {
  loadModule(moduleWith([refK], [refK], [refK], [0x20, 0, 0x21, 1, 0x20, 1, END]));
  loadModule(moduleWith([refK], [refK], [refK], [0x20, 0, 0x22, 1, 0x1a, 0x20, 1, END]));
  // Set outside, read inside a block.
  loadModule(moduleWith([refK], [], [refK], [0x20, 0, 0x21, 1, 0x02, 0x40, 0x20, 1, 0x1a, END, END]));
});

test('a set inside a block does not last past its end, nor into the else of an if', () => {
  // block (local.set 1 (local.get 0)) end; local.get 1
  refused(moduleWith([refK], [], [refK], [0x02, 0x40, 0x20, 0, 0x21, 1, END, 0x20, 1, 0x1a, END]), /uninitialized local/);
  // if (then local.set 1) (else local.get 1)
  refused(moduleWith([refK], [], [refK], [0x41, 0, 0x04, 0x40, 0x20, 0, 0x21, 1, 0x05, 0x20, 1, 0x1a, END, END]), /uninitialized local/);
  // set in both arms: still unset after the if (the spec does not merge branches)
  refused(moduleWith([refK], [], [refK], [0x41, 0, 0x04, 0x40, 0x20, 0, 0x21, 1, 0x05, 0x20, 0, 0x21, 1, END, 0x20, 1, 0x1a, END]), /uninitialized local/);
});

test('br_on_null leaves a non-null reference; its label takes the values below it', () => {
  // (param (ref null $k)) (result i32): block (result i32) i32.const 1; local.get 0; br_on_null 0; call_ref $k; i32.add end
  // (when null, the 1 below the reference goes to the label)
  const ok = [0x02, i32, 0x41, 1, 0x20, 0, 0xd5, 0, 0x14, ...u32(tk), 0x6a, END, END];
  loadModule(moduleWith([nullRefK], [i32], [], ok));
  // What it leaves is (ref $k): a non-nullable local takes it.
  loadModule(moduleWith([nullRefK], [], [refK], [0x02, 0x40, 0x20, 0, 0xd5, 0, 0x21, 1, END, END]));
  // Without br_on_null the nullable reference does not fit the non-nullable local.
  refused(moduleWith([nullRefK], [], [refK], [0x20, 0, 0x21, 1, END]), /type mismatch/);
  // The label's values must be there: a block of [i32] with only the reference on the stack.
  refused(moduleWith([nullRefK], [i32], [], [0x02, i32, 0x20, 0, 0xd5, 0, 0x1a, 0x41, 0, END, END]), /type mismatch/);
  // The operand must be a reference.
  refused(moduleWith([], [], [], [0x02, 0x40, 0x41, 0, 0xd5, 0, 0x1a, END, END]), /type mismatch: expected a reference, found i32/);
});

test('br_on_non_null needs a label whose last value takes the non-null reference', () => {
  // block (result (ref $k)) local.get 0; br_on_non_null 0; unreachable end; drop
  loadModule(moduleWith([nullRefK], [], [], [0x02, 0x64, tk, 0x20, 0, 0xd6, 0, 0x00, END, 0x1a, END]));
  refused(moduleWith([nullRefK], [], [], [0x02, 0x40, 0x20, 0, 0xd6, 0, END, END]), /br_on_non_null needs a label that takes a reference/);
  refused(moduleWith([nullRefK], [], [], [0x02, i32, 0x20, 0, 0xd6, 0, 0x00, END, 0x1a, END]), /type mismatch/);
});

test('subtyping: (ref $t) fits funcref and (ref null $t), not the other way', () => {
  loadModule(moduleWith([refK], [ValType.funcref], [], [0x20, 0, END]));
  loadModule(moduleWith([refK], [nullRefK], [], [0x20, 0, END]));
  refused(moduleWith([ValType.funcref], [nullRefK], [], [0x20, 0, END]), /type mismatch: expected \(ref null 0\), found funcref/);
  refused(moduleWith([ref(HeapType.extern)], [ValType.funcref], [], [0x20, 0, END]), /type mismatch/);
  // ref.func is typed: (ref $k) goes where (ref $k) is expected.
  loadModule(moduleWith([], [refK], [], [0xd2, 0, END]));
});

test('call_ref takes a reference of its type index; ref.as_non_null needs a reference', () => {
  loadModule(moduleWith([nullRefK], [i32], [], [0x20, 0, 0x14, ...u32(tk), END]));
  refused(moduleWith([ValType.funcref], [i32], [], [0x20, 0, 0x14, ...u32(tk), END]), /type mismatch/);
  refused(moduleWith([nullRefK], [i32], [], [0x20, 0, 0x14, ...u32(9), END]), /unknown type 9/);
  refused(moduleWith([], [], [], [0x41, 0, 0xd4, 0x1a, END]), /expected a reference, found i32/);
});

test('a type index that does not exist is "unknown type" wherever a value type names it', () => {
  refused(moduleWith([], [], [ref(5, true)], [END]), /unknown type/);
  refused(moduleWith([ref(5)], [], [], [END]), /unknown type/);
  // ref.null of a missing type
  refused(moduleWith([], [], [], [0xd0, 5, 0x1a, END]), /unknown type/);
  // a heap type the runtime does not know is malformed (GC's `any`, 0x6e)
  assert.throws(() => loadModule(moduleWith([], [], [], [0xd0, 0x6e, 0x1a, END])), (e: unknown) => e instanceof DecodeError && /malformed reference type/.test((e as Error).message));
});

test('a function type may name itself and earlier types, not a later one', () => {
  const self = new ModuleBuilder();
  self.type([ref(0, true)], []);
  loadModule(self.build());
  const later = new ModuleBuilder();
  later.type([ref(1, true)], []);
  later.type([], []);
  assert.throws(() => loadModule(later.build()), (e: unknown) => e instanceof ValidationError && /unknown type in type 0: \(ref null 1\) names a later type/.test((e as Error).message));
});

test('a table of non-nullable references needs an initializer', () => {
  const b = new ModuleBuilder();
  b.type([], []);
  b.table(ref(HeapType.func) as RefType, 1);
  assert.throws(() => loadModule(b.build()), (e: unknown) => e instanceof ValidationError && /table 0 of \(ref func\) needs an initializer/.test((e as Error).message));
});

test.run();
