// Bounded fuzzing of the decoder with the spec suite's binaries, truncated and mutated by
// a seeded PRNG: decoding (bodies included) must succeed or throw DecodeError, never
// anything else, and always make progress.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, decodeModule, InstructionReader } from '../../src/binary/index.ts';
import { DecodeError } from '../../src/errors/index.ts';
import { SPEC_SUITE_DIR, specSuite } from '../helpers/test-data.ts';

// Longer runs: FUZZ_SEED=7 FUZZ_RUNS=1000000 FUZZ_MS=600000 npx uvu -r tsx test/binary fuzz
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed1234);
const MUTANTS = Number(process.env['FUZZ_RUNS'] ?? 3_000);

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  const kind = pick(4);
  if (kind === 0) return src.slice(0, pick(src.length + 1)); // truncate
  const out = src.slice();
  const edits = 1 + pick(4);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = pick(out.length);
    if (kind === 1) out[at] = out[at]! ^ (1 << pick(8)); // flip a bit
    else if (kind === 2) out[at] = pick(256); // replace a byte
    else out[at] = [0x00, 0x7f, 0x80, 0xff][pick(4)]!; // LEB-hostile bytes
  }
  return out;
}

/** Decodes and reads every body; returns the error thrown, if any. */
function decodeAll(bytes: Uint8Array): unknown {
  try {
    const m = decodeModule(bytes);
    const instr = createInstr();
    for (const body of m.codes) {
      assert.ok(body.codeStart <= body.codeEnd && body.codeEnd <= bytes.length, 'body within the module');
      const r = new InstructionReader(bytes, body.codeStart, body.codeEnd);
      while (r.pos < body.codeEnd) {
        const before = r.pos;
        r.read(instr);
        if (r.pos <= before) throw new Error(`no progress at ${before}`);
      }
    }
    return undefined;
  } catch (e) {
    return e;
  }
}

specSuite.register(test, 'mutated spec binaries decode or fail with DecodeError', () => {
  const files = readdirSync(SPEC_SUITE_DIR).filter((f) => f.endsWith('.wasm')).sort();
  assert.ok(files.length > 100, 'spec binaries found');
  const rand = prng(SEED);
  let runs = 0;
  let rejected = 0;
  for (; runs < MUTANTS; runs++) {
    const file = files[Math.floor(rand() * files.length)]!;
    const bytes = mutate(new Uint8Array(readFileSync(join(SPEC_SUITE_DIR, file))), rand);
    const err = decodeAll(bytes);
    if (err === undefined) continue;
    rejected++;
    if (!(err instanceof DecodeError)) {
      const hexBytes = Buffer.from(bytes).toString('hex');
      assert.unreachable(`run ${runs} (${file}): ${String(err)}\n${(err as Error).stack}\nbytes: ${hexBytes}`);
      continue;
    }
    const offset = err.offset;
    assert.ok(offset >= 0 && offset <= bytes.length, `offset of "${err.message}" within the module (${bytes.length} bytes)`);
  }
  assert.ok(rejected > runs / 10, 'mutations do get rejected');
});

test.run();
