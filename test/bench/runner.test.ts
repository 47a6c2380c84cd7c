import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINES, formatJson, ratiosToV8, ratioToV8, runBench } from '../../src/bench/index.ts';
import type { Engine, EngineName } from '../../src/bench/index.ts';

/**
 * A fake engine in Node: its session is a child process that appends its name to `log`
 * (so the order of the runs shows) and reports the next rate of `rates` (one per run).
 */
function fakeEngine(name: EngineName, rates: number[], log: string): Engine {
  let run = 0;
  return {
    name, description: name, firstGuess: 1, check: () => undefined,
    launch: () => { throw new Error('sessions only'); },
    session: () => {
      const rate = rates[run++];
      const report = { iterations: rate, seconds: 1, iterationsPerSec: rate, validated: true };
      const session = { runs: [{ asked: rate, report }], warmupSeconds: 3, stable: true, coldIterationsPerSec: rate / 2 };
      const script = `require('node:fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${name}\n`)}); console.log(${JSON.stringify(`SESSION ${JSON.stringify(session)}`)})`;
      return { command: process.execPath, args: ['-e', script] };
    },
  };
}

test('rounds alternate between engines, and the ratio to V8 pairs each round with V8\'s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-bench-rounds-'));
  try {
    const log = join(dir, 'order.txt');
    // V8's rate halves over the rounds (a machine getting busier); native is 0.9 of it in
    // every round. Per engine, the medians are 900 and 2,000: 0.45, which is wrong.
    const table = { ...ENGINES, native: fakeEngine('native', [1800, 900, 450], log), v8: fakeEngine('v8', [2000, 1000, 500], log) };
    const results = await runBench({ wasm: 'unused.wasm', engines: ['native', 'v8'], seconds: 1, runs: 3, table });
    assert.is(readFileSync(log, 'utf8'), 'native\nv8\nnative\nv8\nnative\nv8\n');
    const [native, v8] = results;
    assert.equal(native.runs, [1800, 900, 450]);
    assert.is(native.iterationsPerSec, 900);
    assert.equal(ratiosToV8(results, native).map((r) => r.toFixed(3)), ['0.900', '0.900', '0.900']);
    assert.is(ratioToV8(results, native)!.toFixed(3), '0.900');
    assert.is(ratioToV8(results, v8), 1);
    const json = JSON.parse(formatJson(results)) as { results: { vsV8?: number; vsV8Runs?: number[] }[] };
    assert.is(json.results[0].vsV8!.toFixed(3), '0.900');
    assert.is(json.results[0].vsV8Runs!.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that fails drops out of later rounds; the others go on; no V8, no ratio', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-bench-rounds-'));
  try {
    const log = join(dir, 'order.txt');
    const failing: Engine = {
      name: 'interp', description: 'fails', firstGuess: 1, check: () => undefined,
      launch: () => { throw new Error('sessions only'); },
      session: () => ({ command: process.execPath, args: ['-e', `require('node:fs').appendFileSync(${JSON.stringify(log)}, 'interp\\n'); process.exit(3)`] }),
    };
    const table = { ...ENGINES, interp: failing, native: fakeEngine('native', [100, 200], log) };
    const [interp, native] = await runBench({ wasm: 'unused.wasm', engines: ['interp', 'native'], seconds: 1, runs: 2, table });
    assert.is(readFileSync(log, 'utf8'), 'interp\nnative\nnative\n');
    assert.is(interp.status, 'failed');
    assert.match(interp.reason!, /exit status 3/);
    assert.equal(native.runs, [100, 200]);
    assert.is(ratioToV8([interp, native], native), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
