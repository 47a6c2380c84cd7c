/**
 * Garbage in, errno out: every import of both modules, called with random arguments
 * (small, huge, negative, wrong JS types), returns an errno number and never throws a
 * JS error; only proc_exit unwinds, with ExitError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitError } from '../../src/errors/index.ts';
import { makeGuest } from './helpers/guest.ts';

/** A small deterministic PRNG (xorshift32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomArg(r: () => number): number | bigint {
  const pick = r();
  if (pick < 0.3) return Math.floor(r() * 8);
  if (pick < 0.5) return Math.floor(r() * 70000);
  if (pick < 0.65) return (Math.floor(r() * 2 ** 32) | 0);
  if (pick < 0.8) return BigInt(Math.floor(r() * 2 ** 20));
  if (pick < 0.9) return -(2n ** 63n) + BigInt(Math.floor(r() * 1000));
  return -1;
}

test('random arguments to every import give errno numbers', () => {
  const g = makeGuest();
  try {
    const r = rng(12345);
    let calls = 0;
    for (const [moduleName, fns] of Object.entries(g.host.imports)) {
      for (const [name, fn] of Object.entries(fns)) {
        for (let i = 0; i < 150; i++) {
          // A random clock subscription could ask for a very long sleep.
          if (name === 'poll_oneoff') continue;
          const args = Array.from({ length: 9 }, () => randomArg(r));
          try {
            const result = fn(...args);
            assert.type(result, 'number', `${moduleName}.${name}(${args.join(', ')})`);
            assert.ok(Number.isInteger(result) && (result as number) >= 0 && (result as number) <= 76);
          } catch (err) {
            if (!(name === 'proc_exit' && err instanceof ExitError)) {
              throw new Error(`${moduleName}.${name}(${args.join(', ')}) threw ${String(err)}`);
            }
          }
          calls++;
        }
      }
    }
    assert.ok(calls > 10000);
  } finally {
    g.dispose();
  }
});

test.run();
