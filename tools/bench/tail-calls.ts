/**
 * An endless tail recursion, made finite: `$sum(n, acc)` tail-calls itself n times
 * (`return_call`), on the interpreter's fast or exact code, with the call depth limited to
 * 8 frames (a plain `call` would exhaust it at once). Reports the calls per second, and
 * the thread's value stack and frame records and the process's heap and RSS before and
 * after: a tail call replaces its frame, so none of them grows with n.
 *
 * Usage: npx tsx tools/bench/tail-calls.ts [--calls N] [--exact]
 */
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';

/** The module: $sum (n i32, acc i64) -> i64 = n == 0 ? acc : return_call $sum(n - 1, acc + n). */
function tailModule(): Uint8Array {
  const body = [
    0x00, // no locals
    0x20, 0, 0x45, 0x04, 0x40, 0x20, 1, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x20, 1, 0x20, 0, 0xad, 0x7c, 0x12, 0, 0x0b,
  ];
  const section = (id: number, content: number[]): number[] => [id, content.length, ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 2, ValType.i32, ValType.i64, 1, ValType.i64]),
    ...section(3, [1, 0]),
    ...section(7, [1, 3, 0x73, 0x75, 0x6d, 0x00, 0]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

function main(argv: string[]): void {
  let calls = 100_000_000;
  let fast = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--calls') calls = Number(argv[++i]);
    else if (argv[i] === '--exact') fast = false;
    else throw new Error(`unknown option ${argv[i]} (usage: tail-calls.ts [--calls N] [--exact])`);
  }
  if (!Number.isInteger(calls) || calls < 1 || calls > 0x7fffffff) throw new Error('--calls needs a whole number from 1 to 2^31-1');
  const store = new Store({ fast, maxDepth: 8 });
  const inst = store.instantiate(loadModule(tailModule()));
  const sum = inst.exports.get('sum')!.addr;
  store.invokeRaw(sum, [1000n, 0n]); // warm up
  const mem = (): string => {
    const m = process.memoryUsage();
    return `value stack ${store.thread.s32.length / 2} slots, frame records ${store.thread.frames.length / 3}, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(m.rss / 2 ** 20).toFixed(1)} MiB`;
  };
  console.log(`before: ${mem()}`);
  const t0 = process.hrtime.bigint();
  const [result] = store.invokeRaw(sum, [BigInt(calls), 0n]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const expected = BigInt(calls) * BigInt(calls + 1) / 2n;
  console.log(`after:  ${mem()}`);
  console.log(`${calls} tail calls on the ${fast ? 'fast' : 'exact'} code in ${seconds.toFixed(1)} s (${(calls / seconds / 1e6).toFixed(2)} M calls/s), result ${result === expected ? 'right' : `WRONG (${result}, expected ${expected})`}`);
  if (result !== expected) process.exitCode = 1;
}

main(process.argv.slice(2));
