/**
 * The priming module (`src/runtime/priming-module.ts`): its fast code holds every case
 * of the fast run loop (read from the loop's source, so a case added later without a
 * piece here fails this test), it runs on both codes to the same result, and with a
 * program's opcodes it holds only the pieces for those.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule, fastLength, FastOp, translateFast } from '../../src/compile/index.ts';
import { PRIMING_PASSES, primingModuleBytes } from '../../src/runtime/priming-module.ts';
import { Store } from '../../src/runtime/index.ts';

const execDir = join(dirname(fileURLToPath(import.meta.url)), '../../src/exec');

/** The fast opcodes in the fast code of the module's functions. */
function fastOps(bytes: Uint8Array): Set<number> {
  const ops = new Set<number>();
  for (const cf of compileModule(decodeModule(bytes)).functions) {
    const { code } = translateFast(cf, cf.sigs);
    for (let pc = 0; pc < code.length; pc += fastLength(code, pc)) ops.add(code[pc]);
  }
  return ops;
}

/** The `case 0x..:` labels of a function's switch, from the source between two markers. */
function caseLabels(file: string, from: string, to: string): number[] {
  const source = readFileSync(join(execDir, file), 'utf8');
  const start = source.indexOf(from);
  const end = to === '' ? source.length : source.indexOf(to, start);
  assert.ok(start >= 0 && end > start, `${from} in ${file}`);
  return [...source.slice(start, end).matchAll(/case (0x[0-9a-f]+):/g)].map((m) => Number(m[1]));
}

test('the fast code holds every case of runFastLoop, stepWide and runSlowOp', () => {
  const ops = fastOps(primingModuleBytes());
  // unreachable only traps; leave (a throw) shares its case with exact1.
  const left = new Set<number>([FastOp.unreachable, FastOp.leave]);
  const loop = caseLabels('run-fast.ts', 'function runFastLoop', 'function runTailCall');
  assert.ok(loop.length > 200, `${loop.length} cases found in runFastLoop`);
  const missing = loop.filter((op) => !ops.has(op) && !left.has(op)).map((op) => `0x${op.toString(16)}`);
  assert.equal(missing, []);
  const wide = caseLabels('run-fast-wide.ts', 'export function stepWide', '');
  assert.equal(wide.filter((op) => !ops.has(op)).map((op) => `0x${op.toString(16)}`), []);
  const slow = caseLabels('run-fast.ts', 'function runSlowOp', '');
  assert.equal(slow.filter((op) => !ops.has(op)).map((op) => `0x${op.toString(16)}`), []);
  assert.ok(ops.has(FastOp.simd), 'the default branch (SIMD)');
});

test('with a program\'s opcodes, only their pieces (and fused instructions of their parts)', () => {
  const all = primingModuleBytes();
  const some = primingModuleBytes(new Set([0x6a, FastOp.immediate + 0x6a]));
  assert.ok(some.length < all.length / 5, `${some.length} bytes against ${all.length}`);
  const ops = fastOps(some);
  assert.ok(ops.has(0x6a));
  assert.ok(ops.has(FastOp.immediate + 0x6a));
  assert.ok(ops.has(FastOp.addAddImm), 'add, add immediate: their fused form');
  assert.not.ok(ops.has(0x7c), 'no i64.add');
  assert.not.ok(ops.has(FastOp.load32AddImm), 'no load: not its fused form');
});

test('every pass runs without a trap, to the same result on the fast and the exact code', () => {
  const compiled = compileModule(decodeModule(primingModuleBytes()));
  const results = [true, false].map((fast) => {
    const store = new Store({ fast, primer: null });
    const instance = store.instantiate(compiled, { env: { echo: (x: number) => x } });
    const main = instance.exports.get('main')!;
    const out: unknown[] = [];
    for (let pass = 0; pass < PRIMING_PASSES; pass++) out.push(store.invoke(main, [pass])[0]);
    out.push(Buffer.from(store.state.memories[0].bytes.subarray(0, 128)).toString('hex'));
    return out;
  });
  assert.equal(results[0], results[1]);
});

test.run();
