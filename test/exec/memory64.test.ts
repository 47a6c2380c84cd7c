/**
 * memory64 and table64 (Wasm 3.0) on both codes: i64 addresses and offsets, bounds
 * checks that never wrap (an address + offset past 2^53 or 2^64 traps), memory.size,
 * grow, fill, copy (also between a 32- and a 64-bit memory), init; table.get, set,
 * size, grow, fill and call_indirect through a 64-bit table, whose index past 2^32 traps
 * rather than wrapping onto a real element. Also one instruction at a time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkError, Trap } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { createHostMemory, Execution, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s64, u32 } from '../helpers/module-builder.ts';

const { i32, i64, funcref } = ValType;

/** Unsigned LEB128 of a u64 (offsets past 2^53). */
export function u64(n: bigint): number[] {
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return out;
}

const i64c = (n: bigint): number[] => [0x42, ...s64(n)];
const get = (i: number): number[] => [0x20, ...u32(i)];
/** A memarg of memory 0: alignment, u64 offset. */
const memArg = (align: number, offset: bigint): number[] => [align, ...u64(offset)];

/**
 * Memory 0: 64-bit, 1 page, max 3; memory 1: 32-bit, 1 page. Passive data "wasm".
 * load(a) = i32.load a; loadHigh(a) = i32.load offset=2^64-16 a; loadFar(a) = i32.load
 * offset=2^53 a; store(a, v); size(); grow(d); fill(d, v, n); copy(d, s, n);
 * init(d, s, n); copyTo32(d i32, s i64, n i32): memory 1 <- memory 0; load32(a i32): memory 1.
 */
function memoryModule(): Uint8Array {
  const b = new ModuleBuilder();
  b.memory(1, 3, true);
  b.memory(1);
  const ex = (name: string, params: ValType[], results: ValType[], code: number[]): void => {
    b.export(name, 'func', b.func(b.type(params, results), [...code, 0x0b]));
  };
  ex('load', [i64], [i32], [...get(0), 0x28, ...memArg(2, 0n)]);
  ex('loadHigh', [i64], [i32], [...get(0), 0x28, ...memArg(2, 0xffff_ffff_ffff_fff0n)]);
  ex('loadFar', [i64], [i32], [...get(0), 0x28, ...memArg(2, 1n << 53n)]);
  ex('load64', [i64], [i64], [...get(0), 0x29, ...memArg(3, 8n)]);
  ex('store', [i64, i32], [], [...get(0), ...get(1), 0x36, ...memArg(2, 0n)]);
  ex('size', [], [i64], [0x3f, 0]);
  ex('grow', [i64], [i64], [...get(0), 0x40, 0]);
  ex('fill', [i64, i32, i64], [], [...get(0), ...get(1), ...get(2), 0xfc, 11, 0]);
  ex('copy', [i64, i64, i64], [], [...get(0), ...get(1), ...get(2), 0xfc, 10, 0, 0]);
  ex('init', [i64, i32, i32], [], [...get(0), ...get(1), ...get(2), 0xfc, 8, 0, 0]);
  // memory.copy from the 64-bit memory 0 into the 32-bit memory 1: i32 destination, i64 source, i32 length.
  ex('copyTo32', [i32, i64, i32], [], [...get(0), ...get(1), ...get(2), 0xfc, 10, 1, 0]);
  ex('load32', [i32], [i32], [...get(0), 0x28, 0x42, 1, 0]); // memarg flags 64+2: memory 1, offset 0
  // SIMD: v128.store of sixteen 0x05 bytes at a + 1; lane 1 (i32) of v128.load a, offset 4.
  ex('storeV', [i64], [], [...get(0), 0xfd, 0x0c, ...new Array(16).fill(5), 0xfd, 0x0b, 4, 1]);
  ex('laneV', [i64], [i32], [...get(0), 0xfd, 0, 4, 4, 0xfd, 0x1b, 1]);
  b.data({ mode: 'passive', bytes: [0x77, 0x61, 0x73, 0x6d] });
  b.dataCount();
  return b.build();
}

/** Every call of a script: [export, args, expected results or a trap's message]. */
type Step = [string, bigint[], bigint[] | string];

const MEMORY_STEPS: Step[] = [
  ['store', [0n, 0x11223344n], []],
  ['load', [0n], [0x11223344n]],
  ['store', [65532n, 7n], []],
  ['load', [65532n], [7n]],
  ['load', [65533n], 'out of bounds memory access'],
  ['load', [1n << 32n], 'out of bounds memory access'],
  ['load', [(1n << 64n) - 1n], 'out of bounds memory access'],
  // 16 + (2^64 - 16) is 2^64: out of bounds, never wrapped to address 0.
  ['loadHigh', [16n], 'out of bounds memory access'],
  ['loadHigh', [0n], 'out of bounds memory access'],
  ['loadFar', [0n], 'out of bounds memory access'],
  ['load64', [65528n], 'out of bounds memory access'],
  ['size', [], [1n]],
  ['grow', [1n], [1n]],
  ['size', [], [2n]],
  ['load', [65536n + 4n], [0n]],
  ['grow', [5n], [(1n << 64n) - 1n]], // -1: past the maximum of 3
  ['grow', [1n << 40n], [(1n << 64n) - 1n]],
  ['grow', [0n], [2n]],
  ['fill', [100n, 0xabn, 4n], []],
  ['load', [100n], [0xababababn]],
  ['fill', [131070n, 1n, 4n], 'out of bounds memory access'],
  ['fill', [131072n, 1n, 0n], []], // at the end, nothing: in bounds
  ['fill', [(1n << 64n) - 1n, 1n, 2n], 'out of bounds memory access'],
  ['copy', [200n, 100n, 4n], []],
  ['load', [200n], [0xababababn]],
  ['copy', [0n, (1n << 64n) - 2n, 4n], 'out of bounds memory access'],
  ['init', [300n, 0n, 4n], []],
  ['load', [300n], [0x6d736177n]],
  ['init', [(1n << 32n) + 300n, 0n, 4n], 'out of bounds memory access'],
  ['copyTo32', [8n, 300n, 4n], []],
  ['load32', [8n], [0x6d736177n]],
  ['copyTo32', [8n, 1n << 33n, 4n], 'out of bounds memory access'],
  ['storeV', [400n], []],
  ['load', [404n], [0x05050505n]],
  ['laneV', [400n], [0x05050505n]], // bytes 408..411
  ['storeV', [131072n - 16n], 'out of bounds memory access'], // offset 1 puts the last byte past the end
  ['storeV', [(1n << 64n) - 1n], 'out of bounds memory access'],
  ['laneV', [131072n - 19n], 'out of bounds memory access'],
];

/**
 * Table 0: 64-bit funcref, 4 elements, max 6, elements 1 and 2 = $eleven, $twentyTwo.
 * call(i) = call_indirect (() -> i32) i; isNull(i) = ref.is_null (table.get i);
 * clear(i) = table.set i null; size(); grow(n) (null); fill(i, n) with $eleven;
 * copyFrom32(d i64, s i32, n i32) from the 32-bit table 1 (2 elements, both $twentyTwo).
 */
function tableModule(): Uint8Array {
  const b = new ModuleBuilder();
  const unit = b.type([], [i32]);
  const eleven = b.func(unit, [0x41, 11, 0x0b]);
  const twentyTwo = b.func(unit, [0x41, 22, 0x0b]);
  b.table(funcref as never, 4, 6, true);
  b.table(funcref as never, 2);
  const ex = (name: string, params: ValType[], results: ValType[], code: number[]): void => {
    b.export(name, 'func', b.func(b.type(params, results), [...code, 0x0b]));
  };
  ex('call', [i64], [i32], [...get(0), 0x11, ...u32(unit), 0]);
  ex('isNull', [i64], [i32], [...get(0), 0x25, 0, 0xd1]);
  ex('clear', [i64], [], [...get(0), 0xd0, 0x70, 0x26, 0]);
  ex('size', [], [i64], [0xfc, 16, 0]);
  ex('grow', [i64], [i64], [0xd0, 0x70, ...get(0), 0xfc, 15, 0]);
  ex('fill', [i64, i64], [], [...get(0), 0xd2, eleven, ...get(1), 0xfc, 17, 0]);
  ex('copyFrom32', [i64, i32, i32], [], [...get(0), ...get(1), ...get(2), 0xfc, 14, 0, 1]);
  b.elem({ mode: 'active', table: 0, offset: [...i64c(1n), 0x0b], funcs: [eleven, twentyTwo] } as never);
  b.elem({ mode: 'active', table: 1, offset: [0x41, 0, 0x0b], funcs: [twentyTwo, twentyTwo] } as never);
  return b.build();
}

const TABLE_STEPS: Step[] = [
  ['call', [1n], [11n]],
  ['call', [2n], [22n]],
  ['call', [0n], 'uninitialized element'],
  ['call', [4n], 'undefined element'],
  // 2^32 + 1 is not element 1.
  ['call', [(1n << 32n) + 1n], 'undefined element'],
  ['isNull', [1n], [0n]],
  ['isNull', [(1n << 32n) + 1n], 'out of bounds table access'],
  ['clear', [1n], []],
  ['isNull', [1n], [1n]],
  ['clear', [(1n << 63n) + 1n], 'out of bounds table access'],
  ['size', [], [4n]],
  ['grow', [2n], [4n]],
  ['grow', [1n], [(1n << 64n) - 1n]], // past the maximum of 6
  ['grow', [(1n << 32n) + 1n], [(1n << 64n) - 1n]],
  ['size', [], [6n]],
  ['fill', [4n, 2n], []],
  ['call', [5n], [11n]],
  ['fill', [5n, (1n << 32n) - 1n], 'out of bounds table access'],
  ['fill', [(1n << 32n) + 4n, 1n], 'out of bounds table access'],
  ['copyFrom32', [0n, 0n, 2n], []],
  ['call', [0n], [22n]],
  ['copyFrom32', [(1n << 32n), 0n, 1n], 'out of bounds table access'],
];

/** Runs the steps on one fresh instance: by invokeRaw, or one instruction at a time. */
function runSteps(module: Uint8Array, steps: Step[], fast: boolean, stepwise: boolean): void {
  const store = new Store({ fast });
  const inst = store.instantiate(loadModule(module));
  const { context } = inst.compiled;
  for (const [name, args, expected] of steps) {
    const addr = inst.exports.get(name)!.addr;
    const type = context.types[context.funcTypeIndices[inst.compiled.module.exports.find((e) => e.name === name)!.index]];
    const what = `${name}(${args.join(', ')})`;
    const call = (): bigint[] => {
      let results: unknown[];
      if (!stepwise) results = store.invokeRaw(addr, args);
      else {
        const execution = new Execution(store, addr, args.map((a, i) => (type.params[i] === i64 ? BigInt.asIntN(64, a) : Number(BigInt.asIntN(32, a)))));
        let outcome = execution.run({ budget: 1 });
        while (outcome.kind === 'paused') outcome = execution.run({ budget: 1 });
        assert.is(outcome.kind, 'returned', what);
        results = (outcome as { results: unknown[] }).results;
      }
      // Raw results carry a stale high word under an i32: compare the type's bits.
      return results.map((r, i) => BigInt.asUintN(type.results[i] === i64 ? 64 : 32, BigInt(r as number | bigint)));
    };
    if (typeof expected === 'string') {
      assert.throws(call, (e: unknown) => e instanceof Trap && (e as Error).message === expected, `${what} traps with "${expected}"`);
    } else {
      assert.equal(call(), expected, what);
    }
  }
}

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';
  for (const stepwise of [false, true]) {
    const how = stepwise ? ', one instruction at a time' : '';
    test(`${code} code${how}: loads, stores and bulk operations on a 64-bit memory`, () => runSteps(memoryModule(), MEMORY_STEPS, fast, stepwise));
    test(`${code} code${how}: a 64-bit table: get, set, size, grow, fill, copy, call_indirect`, () => runSteps(tableModule(), TABLE_STEPS, fast, stepwise));
  }
}

test('a memory64 larger than the host can allocate is a one-line link error; its maximum alone is not', () => {
  const big = new ModuleBuilder();
  big.memory(65537, undefined, true);
  assert.throws(() => new Store().instantiate(loadModule(big.build())), (e: unknown) => e instanceof LinkError && /^memory64 of 65537 pages: more than this host can allocate \(65536 pages, 4 GiB\)$/.test((e as Error).message));
  const declared = new ModuleBuilder();
  declared.memory(1, 2 ** 48, true);
  const store = new Store();
  const inst = store.instantiate(loadModule(declared.build()));
  assert.is(store.state.memories[inst.state.memAddrs[0]].declaredMax, 2 ** 48);
});

test('a 32-bit memory does not link where a 64-bit one is imported, nor the other way', () => {
  const wants64 = new ModuleBuilder();
  wants64.importMemory('host', 'mem', 1, undefined, true);
  const wants32 = new ModuleBuilder();
  wants32.importMemory('host', 'mem', 1);
  const store = new Store();
  const mem32 = createHostMemory(store, 1), mem64 = createHostMemory(store, 1, undefined, true);
  assert.throws(() => store.instantiate(loadModule(wants64.build()), { host: { mem: mem32 } }), (e: unknown) => e instanceof LinkError && /a 64-bit memory expected, a 32-bit one given/.test((e as Error).message));
  assert.throws(() => store.instantiate(loadModule(wants32.build()), { host: { mem: mem64 } }), (e: unknown) => e instanceof LinkError && /a 32-bit memory expected, a 64-bit one given/.test((e as Error).message));
  store.instantiate(loadModule(wants64.build()), { host: { mem: mem64 } });
});

test.run();
