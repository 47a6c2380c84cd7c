/**
 * Wasm 3.0 features the native tier cannot run yet: Node 20's V8 has no multi-memory and
 * no extended constant expressions. Such a module runs in the interpreter on the native
 * and auto engines. (Tail calls run natively: `tail-calls.test.ts`; the one line of
 * `wasmig run --tier native`: `exceptions-fallback.test.ts`.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/module.ts';
import { NativeEngine } from '../../src/native/index.ts';
import { rewriteModule } from '../../src/native/rewrite.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

test('two memories, or an extended constant expression V8 lacks, also stay in the interpreter, each with its reason', () => {
  const engine = new NativeEngine();
  const two = new ModuleBuilder();
  two.memory(1);
  two.memory(1);
  two.export('f', 'func', two.func(two.type([], [i32]), [0x3f, 1, 0x0b]));
  assert.is(engine.cannotRun(loadModule(two.build())), 'the host\'s WebAssembly runs one memory per module, this one has 2');
  const ext = new ModuleBuilder();
  ext.global(i32, false, [0x41, 1, 0x41, 2, 0x6a, 0x0b]);
  ext.export('f', 'func', ext.func(ext.type([], [i32]), [0x23, 0, 0x0b]));
  const compiled = loadModule(ext.build());
  const hostHasIt = WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]));
  assert.is(engine.cannotRun(compiled), hostHasIt ? undefined : 'the host\'s WebAssembly lacks extended constant expressions: i32.add in global 0');
  const program = Program.instantiate(compiled, { tier: 'native' });
  program.start('f');
  assert.equal(program.run(), { kind: 'returned', results: [3] });
});

// Node 22 and later take extended constant expressions, so such a module runs natively
// there, and the rewriter must carry them over: it threw "internal: constant expression
// with opcode 0x6a" (found running this file on Node 24). Checked on the rewriter's
// output, which decodes on any host.
test('the rewriter carries an extended constant expression over into the module V8 runs', () => {
  const ext = new ModuleBuilder();
  ext.global(i32, false, [0x41, 5, 0x41, 2, 0x6b, 0x41, 3, 0x6c, 0x0b]);
  ext.export('f', 'func', ext.func(ext.type([], [i32]), [0x23, 0, 0x0b]));
  const rewritten = decodeModule(rewriteModule(loadModule(ext.build()).context).bytes);
  assert.equal(rewritten.globals[0]!.init.instrs.map((i) => i.op), [0x41, 0x41, 0x6b, 0x41, 0x6c]);
});

test.run();
