import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloneMaker } from '../../src/agent/clone-maker.ts';
import type { SharedClones } from '../../src/native/index.ts';
import { DEFAULT_REWRITE_OPTIONS, RewriteCache, rewriteOptionsKey } from '../../src/native/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot } from '../helpers/cli.ts';

const bytes = readFileSync(join(repoRoot, 'test/programs/recursion.wasm'));

/** A maker whose kept clones land in `kept`, and the module as the agent's main thread holds it. */
function setup(limit?: number): { maker: CloneMaker; kept: SharedClones; cache: RewriteCache; compiled: ReturnType<typeof loadModule> } {
  const cache = new RewriteCache();
  const compiled = loadModule(bytes);
  const kept: SharedClones = [];
  const maker = new CloneMaker((sha, clones) => {
    assert.is(sha, 'recursion');
    kept.push(...clones);
    cache.adoptClones(compiled, clones);
  }, limit);
  return { maker, kept, cache, compiled };
}

test('the clones of every loop of a module are made ahead, in a thread, and kept', async () => {
  const { maker, kept, cache, compiled } = setup();
  const sites = cache.loopSitesWithoutClones(compiled);
  assert.ok(sites.length > 10, `${sites.length} loop sites`);
  maker.ask('recursion', bytes, cache.rewrite(compiled));
  await maker.whenDone('recursion');
  try {
    assert.ok(maker.done('recursion'));
    assert.is(kept.length, sites.length);
    // Every loop site has its clone at hand now: none left to make at a migration's arrival.
    assert.equal(cache.loopSitesWithoutClones(compiled), []);
    const made = kept.filter(([, c]) => c !== null);
    assert.ok(made.length > 0);
    for (const [, c] of made) assert.instance(c!.module, WebAssembly.Module);
    // Asked again: nothing more is made.
    maker.ask('recursion', bytes, cache.rewrite(compiled));
    await maker.whenDone('recursion');
    assert.is(kept.length, sites.length);
  } finally {
    maker.close();
  }
});

test('at most `limit` clones, innermost loops first; none with a limit of 0', async () => {
  const { maker, kept, cache, compiled } = setup(3);
  const sites = cache.loopSitesWithoutClones(compiled);
  maker.ask('recursion', bytes, cache.rewrite(compiled));
  await maker.whenDone('recursion');
  maker.close();
  assert.is(kept.length, 3);
  const firstThree = sites.slice(0, 3).map((s) => `${s.funcIndex}:${s.site.pc}:${rewriteOptionsKey(DEFAULT_REWRITE_OPTIONS)}`);
  assert.equal(kept.map(([key]) => key).sort(), firstThree.sort());

  const none = setup(0);
  none.maker.ask('recursion', bytes, none.cache.rewrite(none.compiled));
  await none.maker.whenDone('recursion');
  none.maker.close();
  assert.is(none.kept.length, 0);
});

test('innermost loops come first in the order of loop sites', () => {
  // f0: an outer loop around an inner one; f1: one loop (innermost too).
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], []);
  b.func(t, assemble(`loop
      loop
        local.get 1 i32.const 1 i32.add local.set 1
        local.get 1 i32.const 10 i32.lt_u br_if 0
      end
      local.get 0 i32.const 1 i32.sub local.set 0
      local.get 0 br_if 0
    end end`), [ValType.i32]);
  b.func(t, assemble('loop local.get 0 i32.const 1 i32.sub local.set 0 local.get 0 br_if 0 end end'));
  const wasm = b.build();
  const cache = new RewriteCache();
  const compiled = loadModule(wasm);
  const sites = cache.loopSitesWithoutClones(compiled);
  assert.is(sites.length, 3);
  // The inner loop of f0 and f1's loop, then f0's outer loop (it encloses the inner one: its pc is lower).
  assert.equal(sites.map((s) => s.funcIndex), [0, 1, 0]);
  assert.ok(sites[2].site.pc < sites[0].site.pc, 'the outer loop begins before the inner one');
  // Made, a site is no longer listed.
  assert.ok(cache.makeLoopClone(compiled, sites[0]));
  assert.is(cache.loopSitesWithoutClones(compiled).length, 2);
});

test.run();
