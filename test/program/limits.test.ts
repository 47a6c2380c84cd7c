/**
 * One size limit for tables and memories, shared by the interpreter, the native tier and
 * restore (src/wasm/limits.ts): a module beyond it is refused by both tiers alike, with
 * a one-line LinkError (the native tier used to die with V8's RangeError and a stack),
 * and a table grows to the limit and no further on either.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkError, SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/snapshot/index.ts';
import { MAX_TABLE_ELEMENTS, ValType } from '../../src/wasm/index.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const TIERS: Tier[] = ['interp', 'native'];

/** A module with one funcref table of `min` elements and an exported `grow(n) -> old size | -1`. */
function tableModule(min: number): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], [ValType.i32]);
  b.table(ValType.funcref, min);
  // ref.null func; local.get 0; table.grow 0
  const f = b.func(t, Uint8Array.of(0xd0, 0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00, 0x0b));
  b.export('grow', 'func', f);
  return b.build();
}

for (const size of [MAX_TABLE_ELEMENTS + 1, 20_000_000, 100_000_000]) {
  test(`a table of ${size} elements is refused on both tiers with a LinkError`, () => {
    const compiled = loadModule(tableModule(size));
    for (const tier of TIERS) {
      try {
        Program.instantiate(compiled, { tier }).start('grow', [0]);
        assert.unreachable(`${tier} took it`);
      } catch (error) {
        assert.instance(error, LinkError, `${tier}: ${(error as Error).message}`);
        assert.is((error as Error).message, `table of ${size} elements: more than the ${MAX_TABLE_ELEMENTS} a table can hold on either tier`);
      }
    }
  });
}

test('a table grows to the limit and no further, on both tiers', () => {
  const compiled = loadModule(tableModule(1));
  for (const tier of TIERS) {
    const p = Program.instantiate(compiled, { tier });
    p.start('grow', [MAX_TABLE_ELEMENTS]);
    assert.equal(p.run(), { kind: 'returned', results: [-1] }, `${tier}: one past the limit`);
    const q = Program.instantiate(compiled, { tier });
    q.start('grow', [MAX_TABLE_ELEMENTS - 1]);
    assert.equal(q.run(), { kind: 'returned', results: [1] }, `${tier}: up to the limit`);
  }
});

test('a snapshot with a table beyond the limit is refused at decode, before restore', () => {
  const compiled = loadModule(tableModule(1));
  const p = Program.instantiate(compiled, { tier: 'interp' });
  const state = p.captureState();
  state.tables[0].elements = new Array(MAX_TABLE_ELEMENTS + 1).fill(null);
  assert.throws(() => decodeSnapshot(encodeSnapshot(state)), (e: unknown) => e instanceof SnapshotError && /tables\[0\] has more than 10000000 elements/.test((e as Error).message));
});

test('Program.resume sizes its snapshot cap to maxMemoryBytes, or takes maxSnapshotBytes', () => {
  const compiled = loadModule(tableModule(1));
  const p = Program.instantiate(compiled, { tier: 'interp' });
  const bytes = encodeSnapshot(p.captureState());
  assert.ok(Program.resume(bytes, { module: compiled, maxMemoryBytes: 65536 }));
  assert.throws(() => Program.resume(bytes, { module: compiled, maxSnapshotBytes: 16 }), (e: unknown) => e instanceof SnapshotError && /exceeds the limit of 16 \(--max-snapshot\)/.test((e as Error).message));
});

test.run();
