/**
 * The shared C corpus (test/programs/cases.ts) under Node's own engine with wasmig's
 * WasiHost as the imports: each case must give its exact expected outcome, or, for the
 * cases whose expectation is "same as node:wasi", the reference's stdout and status
 * (node:wasi run with file-backed stdio: see helpers/node-wasi-files.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureHas, prepareFixture, readFixtureFile } from '../helpers/program-fixture.ts';
import { TRAP_STATUS } from '../helpers/node-wasi-reference.ts';
import { argvOf, isExact, programCases } from '../programs/cases.ts';
import { runNodeWasiWithFiles } from './helpers/node-wasi-files.ts';
import { runWithWasmig } from './helpers/run-wasmig.ts';

function bytes(x: string | Uint8Array): Buffer {
  return typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);
}

for (const c of programCases) {
  test(`corpus ${c.name}: ${c.purpose}`, async () => {
    const fixture = await prepareFixture(c.dirs, c.setup ?? []);
    try {
      const preopens = Object.entries(fixture.preopens).map(([guest, host]) => ({ guest, host }));
      const ours = await runWithWasmig(c.wasm, {
        args: argvOf(c),
        env: { ...c.env },
        preopens,
        ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
      });
      const e = c.expected;
      if (isExact(e)) {
        const expectedOut = bytes(e.stdout);
        if (!ours.stdout.equals(expectedOut)) assert.fixture(ours.stdout.toString(), expectedOut.toString());
        assert.is(ours.status, e.status, 'status');
        assert.is(ours.trap !== undefined, e.trap === true, `trap: ${ours.trap}`);
        if (e.trap) assert.is(ours.status, TRAP_STATUS);
        if (e.stderrIncludes !== undefined) assert.match(ours.stderr.toString(), e.stderrIncludes);
        for (const [rel, content] of Object.entries(e.files ?? {})) {
          assert.is(await readFixtureFile(fixture, rel), content, `file ${rel}`);
        }
        for (const rel of e.absent ?? []) assert.not.ok(await fixtureHas(fixture, rel), `${rel} must not exist`);
      } else {
        const refFixture = await prepareFixture(c.dirs, c.setup ?? []);
        try {
          const reference = await runNodeWasiWithFiles(c.wasm, {
            args: argvOf(c),
            env: c.env,
            preopens: refFixture.preopens,
            ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
          });
          if (!ours.stdout.equals(reference.stdout)) assert.fixture(ours.stdout.toString(), reference.stdout.toString());
          assert.is(ours.status, reference.status, 'status');
        } finally {
          await refFixture.cleanup();
        }
      }
    } finally {
      await fixture.cleanup();
    }
  });
}

test.run();
