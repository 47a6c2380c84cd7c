/**
 * `wasmig run` with WASMIG_PROMPT_EXIT=1 ends its process at once when the program is done (`prompt-exit.ts`):
 * not through Node's ordinary exit, which waits for V8's background compiler to finish
 * code nobody will run. Checked by what differs: `beforeExit`, which Node emits when its
 * event loop runs dry on the way to an ordinary exit, is not emitted; and by what must
 * not: `exit` listeners run, the exit status, and every byte of a large output through
 * a pipe. Processes that want Node's tear-down (profilers,
 * coverage, inspectors) keep the ordinary exit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promptExitAllowed } from '../../src/cli/prompt-exit.ts';
import { bigModule } from '../helpers/big-module.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-prompt-exit-'));
const programs = resolve(repoRoot, 'test/programs');
// Loaded into the CLI's process (not tsx's wrapper around it): says whether Node's ordinary exit ran.
const marker = join(dir, 'marker.mjs');
writeFileSync(marker, `
import { writeSync } from 'node:fs';
if (/main\\.ts$/.test(process.argv[1] ?? '')) {
  process.on('beforeExit', () => writeSync(2, 'ordinary exit\\n'));
  process.on('exit', (code) => writeSync(2, 'exit event ' + code + '\\n'));
}
`);
const withMarker = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: `--import ${marker}`, WASMIG_PROMPT_EXIT: '1', ...extra });

test('who may exit at once: only with WASMIG_PROMPT_EXIT=1, and not under a profiler, an inspector or coverage', () => {
  const on = { WASMIG_PROMPT_EXIT: '1' };
  assert.not.ok(promptExitAllowed([], {}), 'off by default');
  assert.not.ok(promptExitAllowed([], { WASMIG_PROMPT_EXIT: '0' }));
  assert.ok(promptExitAllowed([], on));
  assert.ok(promptExitAllowed(['--require', 'x.cjs', '--import', 'file:///y.mjs', '--no-warnings'], { ...on, NODE_OPTIONS: '--max-old-space-size=4096' }), 'loaders and limits are fine');
  for (const flag of ['--cpu-prof', '--cpu-prof-dir=/tmp', '--heap-prof', '--prof', '--inspect', '--inspect-brk=9229', '--trace-event-categories=v8', '--experimental-test-coverage', '--report-on-signal']) {
    assert.not.ok(promptExitAllowed([flag], on), flag);
    assert.not.ok(promptExitAllowed([], { ...on, NODE_OPTIONS: `--no-warnings ${flag}` }), `NODE_OPTIONS ${flag}`);
  }
  assert.not.ok(promptExitAllowed([], { ...on, NODE_V8_COVERAGE: '/tmp/cov' }), 'c8 and friends collect at exit');
  assert.ok(promptExitAllowed(['--profile-something-else'], on), 'only the options named');
});

test('run ends without Node\'s ordinary exit, with the program\'s status', () => {
  const fast = wasmig(['run', join(programs, 'exit_code.wasm'), '7'], { env: withMarker() });
  assert.is(fast.status, 7, fast.stderr);
  assert.not.match(fast.stderr, /ordinary exit/);
  assert.match(fast.stderr, /exit event 7\n/, 'exit listeners run, with the status');
  assert.not.match(fast.stderr, /ExperimentalWarning/, 'node:wasi, used to exit, says nothing');

  const ordinary = wasmig(['run', join(programs, 'exit_code.wasm'), '7'], { env: withMarker({ WASMIG_PROMPT_EXIT: '0' }) });
  assert.is(ordinary.status, 7);
  assert.match(ordinary.stderr, /ordinary exit/, 'the marker works');

  // The experiment of priming TurboFan's trace points first (prompt-exit.ts) changes nothing the program sees.
  const primed = wasmig(['run', join(programs, 'exit_code.wasm'), '7'], { env: withMarker({ WASMIG_PROMPT_EXIT_PRIME: '1' }) });
  assert.is(primed.status, 7, primed.stderr);
  assert.is(primed.stdout, fast.stdout);
  assert.not.match(primed.stderr, /ordinary exit/);

  // Commands that are not a local run keep the ordinary exit; so does a run by default.
  assert.match(wasmig(['version'], { env: withMarker() }).stderr, /ordinary exit/);
  const byDefault = wasmig(['run', join(programs, 'exit_code.wasm'), '7'], { env: withMarker({ WASMIG_PROMPT_EXIT: undefined }) });
  assert.is(byDefault.status, 7);
  assert.match(byDefault.stderr, /ordinary exit/);
});

test('every byte of a large output reaches the pipe, and errors keep their status and line', () => {
  // Far more than a pipe holds (64 KiB), within what the helper collects (1 MiB); printable, so the text compares exactly.
  const input = Buffer.alloc(900_000);
  for (let i = 0; i < input.length; i++) input[i] = 32 + ((i * 131 + (i >> 11)) % 95);
  const r = wasmig(['run', join(programs, 'cat.wasm')], { input, env: withMarker() });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /ordinary exit/);
  assert.is(r.stdout.length, input.length);
  assert.ok(r.stdout === input.toString('latin1'), 'the same bytes');

  const trap = wasmig(['run', join(programs, 'trap.wasm')], { env: withMarker() });
  assert.is(trap.status, 134);
  assert.is(trap.stdout, 'about to trap\n');
  assert.match(trap.stderr, /^wasmig: trap: unreachable\n/);
  assert.not.match(trap.stderr, /ordinary exit/);
});

test('a program that ends while the rewriter\'s worker is busy still exits cleanly (the worker is stopped first)', () => {
  // Over the 256 KiB at which `auto` rewrites in a worker thread: the program moves to
  // V8 when the worker is done and ends soon after, while the worker's thread is being
  // terminated. Ending the process with exit() while a worker thread ran crashed it now
  // and then (status 139 or 134: 2 runs in 20 of the built CLI on startup.ts's generated
  // 1 MB program, piped; none in 30 since `run` stops its workers first). From the
  // sources the worker's timing differs and the crash did not show: this guards the path.
  writeFileSync(join(dir, 'big.wasm'), bigModule(300, 1000));
  const big = join(dir, 'big.wasm');
  for (let i = 0; i < 6; i++) {
    const r = wasmig(['run', '--no-cache', big], { env: withMarker() });
    assert.is(r.status, 0, `run ${i}: status ${r.status}, ${r.stderr}`);
    assert.not.match(r.stderr, /ordinary exit/);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
