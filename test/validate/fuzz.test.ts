import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError, UnsupportedError, ValidationError } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { SPEC_SUITE_DIR, specSuite } from '../helpers/test-data.ts';

/** A small seeded PRNG (mulberry32), so that a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

specSuite.register(test, 'truncated and bit-flipped modules give only DecodeError, ValidationError or (a flip into v128) UnsupportedError', () => {
  const files = readdirSync(SPEC_SUITE_DIR).filter((f) => f.endsWith('.wasm') && !f.startsWith('simd')).sort();
  const random = prng(20261123);
  const deadline = Date.now() + 6000;
  let cases = 0;
  let rejected = 0;
  while (Date.now() < deadline && cases < 20000) {
    const name = files[Math.floor(random() * files.length)];
    const original = readFileSync(join(SPEC_SUITE_DIR, name));
    const bytes = Uint8Array.from(original);
    let mutated: Uint8Array;
    const how = random();
    if (how < 0.3) mutated = bytes.subarray(0, Math.floor(random() * bytes.length));
    else {
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      mutated = bytes;
    }
    cases++;
    try {
      loadModule(mutated);
    } catch (error) {
      // A flipped byte can make a valid module that uses v128, which is refused as unsupported.
      if (error instanceof DecodeError || error instanceof ValidationError || error instanceof UnsupportedError) {
        rejected++;
        continue;
      }
      assert.unreachable(`${name} (case ${cases}, ${how < 0.3 ? 'truncated' : 'flipped'}): ${(error as Error).stack}`);
    }
  }
  assert.ok(cases > 200, `ran only ${cases} cases`);
  assert.ok(rejected > cases / 4, `only ${rejected} of ${cases} mutations were rejected: the mutator is not biting`);
});

test.run();
