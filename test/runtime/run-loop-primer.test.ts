/**
 * The run loops' primer (an experiment, off by default): it runs once a program has run
 * `PRIME_AFTER` instructions, in a store of its own, and leaves no trace in the program:
 * the same output, the same final memory, globals, result and instruction count.
 */
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule } from '../../src/program/index.ts';
import { Execution, PRIME_AFTER, RunLoopPrimer, sharedRunLoopPrimer, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder, s32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/**
 * main(n): n rounds of h = (h * 31 + i) ^ mem[i & 0xfff0]; mem[(4 i) & 0xfffc] = h;
 * g += h; every 4096 rounds out(h). Returns h. About 30 instructions a round.
 */
function hashModule(): Uint8Array {
  const b = new ModuleBuilder();
  const out = b.importFunc('env', 'out', b.type([i32], []));
  b.memory(1);
  const g = b.global(i32, true, constExpr.i32(0));
  const I = 1, H = 2;
  const f = b.func(b.type([i32], [i32]), [
    0x03, 0x40, // loop
    0x20, H, 0x41, 31, 0x6c, 0x20, I, 0x6a, // h * 31 + i
    0x20, I, 0x41, ...s32(0xfff0), 0x71, 0x28, 2, 0, 0x73, 0x21, H, // ^ mem[i & 0xfff0] -> h
    0x20, I, 0x41, 2, 0x74, 0x41, ...s32(0xfffc), 0x71, 0x20, H, 0x36, 2, 0, // mem[(i << 2) & 0xfffc] = h
    0x23, g, 0x20, H, 0x6a, 0x24, g, // g += h
    0x20, I, 0x41, ...s32(0xfff), 0x71, 0x45, 0x04, 0x40, 0x20, H, 0x10, out, 0x0b, // every 4096: out(h)
    0x20, I, 0x41, 1, 0x6a, 0x22, I, 0x20, 0, 0x49, 0x0d, 0, // i += 1; br_if i < n
    0x0b, 0x20, H, 0x0b,
  ], [i32, i32]);
  b.export('main', 'func', f);
  b.export('g', 'global', g);
  return b.build();
}

/** Runs main(rounds) in budgets of 100,000 instructions; everything the program leaves behind, hashed. */
function runHash(primer: RunLoopPrimer | null, rounds: number): { output: number[]; state: string; instructions: number; result: unknown } {
  const output: number[] = [];
  const store = new Store({ primer });
  const instance = store.instantiate(loadModule(hashModule()), { env: { out: (h: number) => { output.push(h); } } });
  const execution = new Execution(store, instance.exports.get('main')!.addr, [rounds]);
  let outcome = execution.run({ budget: 100_000 });
  while (outcome.kind === 'paused') outcome = execution.run({ budget: 100_000 });
  assert.is(outcome.kind, 'returned');
  const hash = createHash('sha256');
  for (const m of store.state.memories) hash.update(m.bytes);
  hash.update(JSON.stringify(store.state.globals.map((x) => [x.lo, x.hi])));
  const t = store.thread;
  hash.update(JSON.stringify([t.sp, t.fp, t.depth, t.funcAddr]));
  return { output, state: hash.digest('hex'), instructions: execution.instructions, result: outcome.kind === 'returned' ? outcome.results : undefined };
}

test('priming leaves no trace in the program that triggers it', () => {
  const primer = new RunLoopPrimer();
  const primed = runHash(primer, 40_000);
  assert.ok(primer.done, 'the program ran past PRIME_AFTER: the primer ran');
  assert.is(primer.failure, undefined);
  assert.ok(primer.instructions > 0);
  assert.ok(primed.instructions > PRIME_AFTER);
  const plain = runHash(null, 40_000);
  assert.equal(primed.output, plain.output);
  assert.ok(plain.output.length >= 9);
  assert.is(primed.state, plain.state);
  assert.is(primed.instructions, plain.instructions);
  assert.equal(primed.result, plain.result);
});

test('a short program does not prime; a primer primes once', () => {
  const primer = new RunLoopPrimer();
  runHash(primer, 100); // about 3,000 instructions
  assert.not.ok(primer.done);
  runHash(primer, 40_000);
  assert.ok(primer.done);
  const first = primer.instructions;
  runHash(primer, 40_000);
  assert.is(primer.instructions, first);
});

test('priming is off unless WASMIG_PRIME=1', () => {
  const saved = process.env.WASMIG_PRIME;
  try {
    delete process.env.WASMIG_PRIME;
    assert.is(sharedRunLoopPrimer(), null);
    process.env.WASMIG_PRIME = '0';
    assert.is(sharedRunLoopPrimer(), null);
    process.env.WASMIG_PRIME = '1';
    assert.instance(sharedRunLoopPrimer(), RunLoopPrimer);
  } finally {
    if (saved === undefined) delete process.env.WASMIG_PRIME;
    else process.env.WASMIG_PRIME = saved;
  }
});

test.run();
