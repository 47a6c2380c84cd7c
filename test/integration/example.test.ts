/**
 * The README's library example (examples/embed.ts) runs and says what it should: the
 * embedder's import gets plain values, a pause asked for from a host function lands
 * there, and the program resumed from the snapshot alone carries on with the embedder's
 * state to the right sums.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../helpers/cli.ts';

/** Sum of i*i for i < n. */
const squares = (n: bigint): bigint => ((n - 1n) * n * (2n * n - 1n)) / 6n;

test('examples/embed.ts: paused on device A, resumed from the snapshot on device B, right to the end', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'examples/embed.ts')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const reports = lines.filter((l) => l.includes('sum of squares'));
  const expected = [1, 2, 3, 4, 5].map((k) => `device ${k <= 2 ? 'A' : 'B'}: step ${k * 100_000}, sum of squares ${squares(BigInt(k * 100_000))}`);
  assert.equal(reports, expected);
  assert.ok(lines.includes('device B: resumed with 2 reports already made'), r.stdout);
  assert.ok(lines.includes('device B: {"kind":"exited","status":0}, 5 reports in all'), r.stdout);
  assert.match(r.stdout, /device A: snapshot of \d+ bytes/);
});

test.run();
