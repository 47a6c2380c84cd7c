/**
 * The C corpus (test/programs/cases.ts) through the real command line: every case runs
 * as `wasmig run` on the default tier in a child process (a plain module on V8; a case's
 * `defaultRun` says where that differs from the interpreter, and is run again there on
 * `--tier native`), with its stdin piped in, its
 * preopens given as `--dir HOST::GUEST` and its environment as `--env NAME=VALUE`, and
 * must give its reference's stdout, byte for byte, and exit status: the case's own
 * expectation, or, for `reference: 'node'` cases, what V8 with node:wasi gives (run with
 * file-backed stdio, see test/wasi/helpers/node-wasi-files.ts).
 *
 * argv[0] is the module path as given on the command line, and the cases expect the bare
 * program name there; so each run gets a scratch directory holding a symlink named after
 * the program, and runs `wasmig run ... NAME ARGS` from it.
 *
 * Every case keeps its full size: none is slow on the interpreter. Measured on the 2-core
 * CI machine, launch included: the 256 MiB `bigmem` 1.8 s, `recursion` (100,000 deep)
 * 1.3 s, `bigmem_full` (32 MiB, every word) 2.9 s; the whole file about 20 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../helpers/cli.ts';
import { TRAP_STATUS } from '../helpers/node-wasi-reference.ts';
import { fixtureHas, prepareFixture, readFixtureFile } from '../helpers/program-fixture.ts';
import { isExact, programCases } from '../programs/cases.ts';
import type { ProgramCase } from '../programs/cases.ts';
import { runNodeWasiWithFiles } from '../wasi/helpers/node-wasi-files.ts';

const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
const cliMain = resolve(repoRoot, 'src/cli/main.ts');

/** Set in the CLI's own environment; the program must not see it (args_env prints it as unset). */
const HOST_ONLY_VARIABLE = { WASMIG_UNSET: 'inherited from the host: must not reach the program' };

interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** `wasmig run [OPTIONS] ARGS` from the sources, in `cwd`, with `stdin` written to a pipe and closed. */
function runCli(args: readonly string[], cwd: string, stdin: string | Uint8Array | undefined, options: readonly string[] = []): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [tsx, cliMain, 'run', ...options, ...args], {
      cwd,
      env: { ...process.env, ...HOST_ONLY_VARIABLE },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // A program that stops reading early closes the pipe: not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin === undefined ? undefined : typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/** The command line for a case: preopens and environment as options, then NAME and its args. */
function cliArgs(c: ProgramCase, preopens: Record<string, string>): string[] {
  const options: string[] = [];
  for (const [guest, host] of Object.entries(preopens)) options.push('--dir', `${host}::${guest}`);
  for (const [name, value] of Object.entries(c.env)) options.push('--env', `${name}=${value}`);
  return [...options, c.program, ...c.args];
}

async function runCase(c: ProgramCase, preopens: Record<string, string>, options: readonly string[] = []): Promise<CliRun> {
  const bin = mkdtempSync(join(tmpdir(), 'wasmig-run-corpus-'));
  try {
    symlinkSync(c.wasm, join(bin, c.program));
    return await runCli(cliArgs(c, preopens), bin, c.stdin, options);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function bytes(x: string | Uint8Array): Buffer {
  return typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);
}

function sameStdout(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  // Show a readable diff; a byte-level difference that decodes alike still fails.
  assert.fixture(actual.toString('utf8'), expected.toString('utf8'), what);
  assert.unreachable(`${what}: stdout differs in bytes (${actual.length} vs ${expected.length})`);
}

/** A backtrace line with a function name (not `<function N>`) and an offset. */
const NAMED_FRAME = /^ +\d+: [A-Za-z_$][\w.$]* \(function \d+ at byte 0x[0-9a-f]+\)$/;

/** What stderr must hold after a trap: one message line, then named frames, no JS stack. */
function checkTrapReport(stderr: string, name: string): void {
  const lines = stderr.trimEnd().split('\n');
  const at = lines.findIndex((l) => l.startsWith('wasmig: '));
  assert.ok(at >= 0, `${name}: no wasmig message on stderr:\n${stderr}`);
  assert.match(lines[at]!, /^wasmig: trap: \S/, `${name}: trap message`);
  assert.is(lines[at + 1], 'wasm backtrace:', `${name}: backtrace header`);
  const frames = lines.slice(at + 2);
  assert.ok(frames.length > 0, `${name}: empty backtrace`);
  for (const f of frames) assert.match(f, NAMED_FRAME, `${name}: backtrace frame`);
}

for (const c of programCases) {
  test(`wasmig run ${c.name}: ${c.purpose}`, async () => {
    const fixture = await prepareFixture(c.dirs, c.setup ?? []);
    try {
      const ours = await runCase(c, fixture.preopens);
      const stderr = ours.stderr.toString('utf8');
      assert.is(ours.signal, null, `${c.name}: killed by ${ours.signal}; stderr:\n${stderr}`);
      // The default tier's own outcome where it has one (a plain module on V8's stack).
      const e = c.defaultRun?.expected ?? c.expected;
      if (isExact(e)) {
        sameStdout(ours.stdout, bytes(e.stdout), `${c.name}: stdout`);
        assert.is(ours.status, e.status, `${c.name}: exit status; stderr:\n${stderr}`);
        if (e.trap === true) {
          assert.is(ours.status, TRAP_STATUS);
          checkTrapReport(stderr, c.name);
        } else if (c.defaultRun === undefined) {
          assert.not.match(stderr, /^wasmig: (?!note: )/m, `${c.name}: the CLI reported an error`);
        }
        if (e.stderrIncludes !== undefined) assert.ok(stderr.includes(e.stderrIncludes), `${c.name}: stderr:\n${stderr}`);
        for (const [rel, content] of Object.entries(e.files ?? {})) {
          assert.is(await readFixtureFile(fixture, rel), content, `${c.name}: file ${rel}`);
        }
        for (const rel of e.absent ?? []) assert.not.ok(await fixtureHas(fixture, rel), `${c.name}: ${rel} must not exist`);
      } else {
        const refFixture = await prepareFixture(c.dirs, c.setup ?? []);
        try {
          const reference = await runNodeWasiWithFiles(c.wasm, {
            args: [c.program, ...c.args],
            env: c.env,
            preopens: refFixture.preopens,
            ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
          });
          sameStdout(ours.stdout, reference.stdout, `${c.name}: stdout (node:wasi reference)`);
          assert.is(ours.status, reference.status, `${c.name}: exit status; stderr:\n${stderr}`);
          if (reference.trap !== undefined) checkTrapReport(stderr, c.name);
          else assert.not.match(stderr, /^wasmig: (?!note: )/m, `${c.name}: the CLI reported an error`);
        } finally {
          await refFixture.cleanup();
        }
      }
    } finally {
      await fixture.cleanup();
    }
  });
}

for (const c of programCases.filter((x) => x.defaultRun !== undefined)) {
  test(`wasmig run --tier native ${c.name}: what the interpreter gives, where the default tier differs (${c.defaultRun!.reason})`, async () => {
    const e = c.expected;
    assert.ok(isExact(e));
    const r = await runCase(c, {}, ['--tier', 'native']);
    sameStdout(r.stdout, bytes(e.stdout), `${c.name}: stdout`);
    assert.is(r.status, e.status, r.stderr.toString());
  });
}

test('wasmig run trap: the message is the spec\'s, the frames are the C functions, innermost first', async () => {
  const c = programCases.find((x) => x.name === 'trap');
  assert.ok(c !== undefined);
  const r = await runCase(c, {});
  assert.is(r.status, TRAP_STATUS);
  assert.is(r.stdout.toString(), 'about to trap\n');
  const stderr = r.stderr.toString();
  assert.match(stderr, /^wasmig: trap: unreachable\nwasm backtrace:\n {3}0: __original_main \(function \d+ at byte 0x[0-9a-f]+\)\n {3}1: _start \(/);
  assert.not.match(stderr, /\.ts:\d+|\.js:\d+|node:internal/);
});

test.run();
