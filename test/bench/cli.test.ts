import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot } from '../helpers/cli.ts';
import { constExpr, ModuleBuilder } from '../helpers/module-builder.ts';
import { checkXml } from '../helpers/xml-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-bench-'));
const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
const main = resolve(repoRoot, 'src/cli/main.ts');

/** `wasmig bench ARGS` from the sources, with a PATH holding only node (so no wasm3 or iwasm). */
function bench(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [tsx, main, 'bench', ...args], {
    cwd: repoRoot,
    env: { ...process.env, PATH: dirname(process.execPath) },
    encoding: 'utf8',
    // A warm-up lasts at least 3 s per run: generous for a loaded machine.
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface JsonResult {
  engine: string; iterationsPerSec: number | null; validated: boolean; seconds: number | null; iterations: number | null;
  runs: number[]; coldIterationsPerSec: number | null; status: string; reason?: string;
}

/**
 * A WASI command that prints a fixed CoreMark report, the way a standard build does after
 * a short run (with its "at least 10 secs" error), whatever the arguments.
 */
function cannedCoreMark(file: string, report: string): string {
  const { i32 } = ValType;
  const b = new ModuleBuilder();
  const fdWrite = b.importFunc('wasi_snapshot_preview1', 'fd_write', b.type([i32, i32, i32, i32], [i32]));
  const mem = b.memory(1);
  const text = new TextEncoder().encode(report);
  b.data({ mode: 'active', offset: constExpr.i32(0), bytes: [64, 0, 0, 0, ...new Uint8Array(new Uint32Array([text.length]).buffer)] });
  b.data({ mode: 'active', offset: constExpr.i32(64), bytes: text });
  // fd_write(1, iovs = 0, 1 iovec, nwritten at 16)
  const start = b.func(b.type([], []), [0x41, 1, 0x41, 0, 0x41, 1, 0x41, 16, 0x10, fdWrite, 0x1a, 0x0b]);
  b.export('memory', 'memory', mem).export('_start', 'func', start);
  const path = join(dir, file);
  writeFileSync(path, b.build());
  return path;
}

function standardReport(crcList: string): string {
  return [
    '2K performance run parameters for coremark.',
    ...(crcList === '0xe714' ? [] : [`[0]ERROR! list crc ${crcList} - should be 0xe714`]),
    'CoreMark Size    : 666',
    'Total ticks      : 2345',
    'Total time (secs): 2.345000',
    'Iterations/Sec   : 852.878465',
    'Iterations       : 2000',
    'Compiler version : test',
    'Compiler flags   : test',
    'Memory location  : Please put data memory location here',
    'seedcrc          : 0xe9f5',
    `[0]crclist       : ${crcList}`,
    '[0]crcmatrix     : 0x1fd7',
    '[0]crcstate      : 0x8e3a',
    '[0]crcfinal      : 0x4983',
    'ERROR! Must execute for at least 10 secs for a valid result!',
    'Errors detected',
    '',
  ].join('\n');
}

test('interp and v8 run our CoreMark and validate, --runs times; JSON and SVG; wasm3 is skipped', () => {
  const svg = join(dir, 'chart.svg');
  const r = bench(['coremark', '--engines', 'interp,v8,wasm3', '--iterations', '3', '--runs', '2', '--json', '--svg', svg]);
  assert.is(r.stderr, '', 'no progress when stderr is not a TTY');
  assert.is(r.status, 0);
  const json = JSON.parse(r.stdout) as { results: JsonResult[] };
  assert.equal(Object.keys(json), ['results']);
  assert.equal(json.results.map((x) => x.engine), ['interp', 'v8', 'wasm3']);
  for (const x of json.results.slice(0, 2)) {
    assert.is(x.status, 'ok', x.reason);
    assert.is(x.validated, true);
    assert.is(x.iterations, 3);
    assert.type(x.iterationsPerSec, 'number');
    assert.ok(x.iterationsPerSec! > 0);
    assert.type(x.seconds, 'number');
    // Two timed runs, the median between them; a cold rate from the process's first run.
    assert.is(x.runs.length, 2);
    assert.ok(x.iterationsPerSec! >= Math.min(...x.runs) && x.iterationsPerSec! <= Math.max(...x.runs));
    assert.type(x.coldIterationsPerSec, 'number');
  }
  assert.equal(json.results[2], { engine: 'wasm3', iterationsPerSec: null, validated: false, seconds: null, iterations: null, runs: [], coldIterationsPerSec: null, status: 'skipped', reason: 'wasm3 not found on PATH' });
  assert.ok(existsSync(svg));
  const text = readFileSync(svg, 'utf8');
  checkXml(text);
  assert.match(text, /interp/);
  assert.match(text, /skipped: wasm3 not found on PATH/);
});

test('the warm-up picks an iteration count; the table is the default output: warm median, spread, cold apart', () => {
  const r = bench(['coremark', '--engines', 'v8,native', '--seconds', '0.2', '--runs', '2']);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^CoreMark \(coremark\.wasm\), about 0\.2 s per run, median of 2 runs, engines in turn; interp, native and v8 warmed up in the process first \(cold: the first 0\.2 s of a fresh process\)$/);
  assert.ok(lines.some((l) => /^engine\s+iterations\/s\s+spread\s+vs v8\s+cold\s+validated\s+seconds\s+iterations/.test(l)), r.stdout);
  const rate = '[\\d,]+\\.\\d';
  assert.ok(lines.some((l) => new RegExp(`^v8\\s+${rate}\\s+${rate}-${rate}\\s+1\\.00\\s+${rate}\\s+yes\\s`).test(l)), r.stdout);
  assert.ok(lines.some((l) => new RegExp(`^native\\s+${rate}\\s+${rate}-${rate}\\s+[\\d.]+(?: \\(1/\\d+\\))?\\s+${rate}\\s+yes\\s`).test(l)), r.stdout);
});

test('a standard-format report (short-run error) validates through its CRCs', () => {
  const wasm = cannedCoreMark('standard.wasm', standardReport('0xe714'));
  const r = bench(['coremark', '--wasm', wasm, '--engines', 'interp,v8', '--seconds', '1', '--json']);
  assert.is(r.status, 0, r.stderr);
  const { results } = JSON.parse(r.stdout) as { results: JsonResult[] };
  for (const x of results) {
    assert.is(x.validated, true);
    assert.is(x.iterations, 2000);
    assert.is(x.iterationsPerSec, 852.878465);
    // Run once: a module that runs its own count says nothing new when run again.
    assert.equal(x.runs, [852.878465]);
    // It prints 2000 whatever it is asked: the calibration run is the result.
    assert.match(x.reason ?? '', /ran 2000 iterations, not the \d+ asked for/);
  }
});

test('wrong CRCs: not validated, exit status 1', () => {
  const wasm = cannedCoreMark('wrong.wasm', standardReport('0x1234'));
  const r = bench(['coremark', '--wasm', wasm, '--engines', 'v8', '--iterations', '1']);
  assert.is(r.status, 1);
  assert.match(r.stdout, /^v8\s.*\sNO\s.*list crc 0x1234 - should be 0xe714/m);
});

test('usage errors exit 2 with a clear message', () => {
  const unknown = bench(['coremark', '--engines', 'interp,wasmtime']);
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /^wasmig: unknown engine "wasmtime": choose from interp, native, v8, wasm3, iwasm\n$/);
  assert.is(unknown.stdout, '');
  assert.is(bench(['dhrystone']).status, 2);
  assert.match(bench(['coremark', '--seconds', 'soon']).stderr, /--seconds needs a positive number/);
  const runs = bench(['coremark', '--runs', '0']);
  assert.is(runs.status, 2);
  assert.match(runs.stderr, /--runs/);
  const missing = bench(['coremark', '--wasm', join(dir, 'nope.wasm')]);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /nope\.wasm: no such file/);
});

test('an invalid module is refused before any engine runs', () => {
  const bad = join(dir, 'bad.wasm');
  writeFileSync(bad, 'this is not wasm');
  const r = bench(['coremark', '--wasm', bad, '--engines', 'v8']);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^wasmig: .*bad\.wasm: not a WebAssembly module: /);
  const noStart = join(dir, 'nostart.wasm');
  writeFileSync(noStart, new ModuleBuilder().build());
  const r2 = bench(['coremark', '--wasm', noStart, '--engines', 'v8']);
  assert.is(r2.status, 1);
  assert.match(r2.stderr, /nostart\.wasm: not a WASI command module \(it exports no _start function\)/);
});

test.run();
