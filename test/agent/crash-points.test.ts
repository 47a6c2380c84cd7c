/**
 * Fault points (src/agent/crash-points.ts): the spec parses or fails in one line, a
 * disarmed or non-matching point does nothing, and a matching one kills the process at
 * exactly the Nth occurrence (run in a child process, which dies by SIGKILL).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CrashPoints } from '../../src/agent/crash-points.ts';
import { UsageError } from '../../src/errors/index.ts';
import { repoRoot } from '../helpers/cli.ts';

test('a bad spec is a one-line UsageError', () => {
  for (const spec of ['source', 'client:prepare', 'source:lunch', 'source:prepare:0', 'source:prepare:x', 'source:prepare:1:pause', 'source:prepare:1:kill:more']) {
    try {
      new CrashPoints(spec, () => {});
      assert.unreachable(spec);
    } catch (error) {
      assert.ok(error instanceof UsageError, `${spec}: ${String(error)}`);
      assert.match((error as Error).message, /^WASMIG_CRASH_AT=.*: expected ROLE:STEP\[:N\[:ACTION\]\]/);
      assert.not.match((error as Error).message, /\n/);
    }
  }
});

test('unset, or another step, role or blob: nothing happens', () => {
  const lines: string[] = [];
  const off = new CrashPoints(undefined, (l) => lines.push(l));
  assert.not.ok(off.armed);
  off.reach('source', 'prepare');
  off.chunk('target', 0, 1, true);
  const other = new CrashPoints('target:middle-chunk:2', (l) => lines.push(l));
  assert.ok(other.armed);
  other.reach('source', 'prepare');
  other.reach('target', 'prepare');
  for (let i = 0; i < 5; i++) other.chunk('source', i, 5, false);
  for (let i = 0; i < 5; i++) other.chunk('target', i, 5, false); // blob 1 of the target's
  assert.equal(lines, []);
});

/** Runs `calls` (a script over `points`) in a child process armed with `spec`: its exit signal and output. */
function child(spec: string, calls: string): { signal: NodeJS.Signals | null; out: string } {
  const script = `import { CrashPoints } from ${JSON.stringify(resolve(repoRoot, 'src/agent/crash-points.ts'))};
const points = new CrashPoints(${JSON.stringify(spec)}, (l) => console.log(l));
${calls}
console.log('survived');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { signal: r.signal, out: r.stdout + r.stderr };
}

test('the Nth time a step is reached, the agent dies there (SIGKILL), having said so', () => {
  const r = child('source:commit-sent:2', `points.reach('source', 'commit-sent'); console.log('one'); points.reach('source', 'commit-sent'); console.log('two');`);
  assert.is(r.signal, 'SIGKILL', r.out);
  assert.match(r.out, /^one\ncrash-point reached source:commit-sent:2; killing this agent \(SIGKILL\)\n$/);
});

test('the chunk steps: the middle chunk of the second blob; the last chunk of the final package', () => {
  let r = child('target:middle-chunk:2', `for (const blob of [1, 2]) for (let i = 0; i < 5; i++) { console.log(blob + '.' + i); points.chunk('target', i, 5, false); }`);
  assert.is(r.signal, 'SIGKILL', r.out);
  assert.match(r.out, /2\.2\ncrash-point reached target:middle-chunk:2 \(chunk 3 of 5\); killing/);
  r = child('source:last-chunk:final', `for (const final of [false, false, true]) for (let i = 0; i < 3; i++) { console.log(String(final) + i); points.chunk('source', i, 3, final); }`);
  assert.is(r.signal, 'SIGKILL', r.out);
  assert.match(r.out, /true2\ncrash-point reached source:last-chunk:final \(chunk 3 of 3\); killing/);
});

test.run();
