/**
 * Proves the corpus itself: every case of `cases.ts` runs under the reference
 * engine (V8 with node:wasi, in a child process) and must give its own exact
 * expectation, or, where node:wasi is known to be wrong, the documented
 * deviation.  Cases with `reference: 'node'` need only run cleanly here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runWithNodeWasi } from '../helpers/node-wasi-reference.ts';
import { fixtureHas, prepareFixture, readFixtureFile } from '../helpers/program-fixture.ts';
import { argvOf, isExact, programCases } from './cases.ts';

const names = new Set<string>();
for (const c of programCases) {
  test(`corpus: ${c.name} unique name`, () => {
    assert.not.ok(names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
  });
}

for (const c of programCases) {
  test(`corpus under node:wasi: ${c.name}`, async () => {
    const fixture = await prepareFixture(c.dirs, c.setup);
    try {
      const result = await runWithNodeWasi(c.wasm, {
        args: argvOf(c),
        env: c.env,
        stdin: c.stdin,
        preopens: fixture.preopens,
      });
      const e = c.expected;
      if (!isExact(e)) {
        assert.is(result.trap, undefined, `${c.name}: unexpected trap`);
        assert.ok(result.stdout.length > 0, `${c.name}: no output`);
        return;
      }
      if (c.nodeDeviation !== undefined) {
        // node:wasi gets this case wrong in a known way; pin that down so a fix shows up.
        assert.is(result.stdout.toString('utf8'), c.nodeDeviation.stdout, c.nodeDeviation.reason);
        assert.is(result.status, c.nodeDeviation.status, c.nodeDeviation.reason);
        return;
      }
      if (typeof e.stdout === 'string') {
        assert.is(result.stdout.toString('utf8'), e.stdout, `${c.name}: stdout`);
      } else {
        assert.ok(Buffer.from(e.stdout).equals(result.stdout), `${c.name}: binary stdout differs`);
      }
      assert.is(result.status, e.status, `${c.name}: status (stderr: ${result.stderr.toString('utf8')})`);
      assert.is(result.trap !== undefined, e.trap === true, `${c.name}: trap (${result.trap})`);
      if (e.stderrIncludes !== undefined) {
        assert.ok(result.stderr.toString('utf8').includes(e.stderrIncludes), `${c.name}: stderr`);
      }
      for (const [path, content] of Object.entries(e.files ?? {})) {
        assert.is(await readFixtureFile(fixture, path), content, `${c.name}: file ${path}`);
      }
      for (const path of e.absent ?? []) {
        assert.not.ok(await fixtureHas(fixture, path), `${c.name}: ${path} must not exist`);
      }
    } finally {
      await fixture.cleanup();
    }
  });
}

test.run();
