import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { combineRuns, coremarkArgs, formatJson, formatSvg, formatTable, parseReport } from '../../src/bench/index.ts';
import type { EngineResult } from '../../src/bench/index.ts';
import { iterationsFor } from '../../src/bench/runner.ts';
import { checkXml } from '../helpers/xml-check.ts';

/** The report lines of a 2K performance run, as both our build and a standard one print them. */
function report(o: { crcList?: string; seconds?: string; tail?: string[]; head?: string[] } = {}): string {
  return [
    ...(o.head ?? ['2K performance run parameters for coremark.']),
    'CoreMark Size    : 666',
    'Total ticks      : 512345',
    `Total time (secs): ${o.seconds ?? '0.512345'}`,
    'Iterations/Sec   : 19518.098',
    'Iterations       : 10000',
    'Compiler version : Clang 14.0.6',
    'Compiler flags   : -O3',
    'Memory location  : STATIC',
    'seedcrc          : 0xe9f5',
    `[0]crclist       : ${o.crcList ?? '0xe714'}`,
    '[0]crcmatrix     : 0x1fd7',
    '[0]crcstate      : 0x8e3a',
    '[0]crcfinal      : 0x382f',
    ...(o.tail ?? ['Correct operation validated. See README.md for run and reporting rules.']),
    '',
  ].join('\n');
}

test('one argument vector suits our CoreMark and a standard build', () => {
  assert.equal(coremarkArgs(300), ['0x0', '0x0', '0x66', '300', '7', '1', '2000']);
});

test('parses a validated report', () => {
  const r = parseReport(report());
  assert.is(r.iterations, 10000);
  assert.is(r.seconds, 0.512345);
  assert.is(r.iterationsPerSec, 19518.098);
  assert.is(r.validated, true);
  assert.is(r.problem, undefined);
  assert.equal(r.crcs, { seed: 0xe9f5, list: [0xe714], matrix: [0x1fd7], state: [0x8e3a], final: [0x382f] });
});

test("a standard build's short-run error does not invalidate correct CRCs", () => {
  const text = report({ tail: ['ERROR! Must execute for at least 10 secs for a valid result!', 'Errors detected'] });
  assert.is(parseReport(text).validated, true);
});

test('a wrong CRC is not validated, with the reason', () => {
  const printed = parseReport(report({ head: ['2K performance run parameters for coremark.', '[0]ERROR! list crc 0x1234 - should be 0xe714'], crcList: '0x1234', tail: ['Errors detected'] }));
  assert.is(printed.validated, false);
  assert.match(printed.problem!, /list crc 0x1234/);
  // Even when the program claims otherwise, the CRC lines decide.
  const silent = parseReport(report({ crcList: '0x1234' }));
  assert.is(silent.validated, false);
  assert.is(silent.problem, 'list crc 0x1234, should be 0xe714');
});

test('no report, unknown seeds', () => {
  assert.is(parseReport('hello\n').problem, 'no CoreMark report in the output');
  const unknown = parseReport(report().replace('seedcrc          : 0xe9f5', 'seedcrc          : 0x1111'));
  assert.is(unknown.validated, false);
  assert.match(unknown.problem!, /unknown seed set/);
});

test('a build without floating point (whole seconds, no CRC check possible otherwise)', () => {
  const r = parseReport(report({ seconds: '12' }).replace(/^Iterations\/Sec.*\n/m, ''));
  assert.is(r.iterationsPerSec, 10000 / 12);
});

test('calibration: one point scales; two points separate the warm-up', () => {
  assert.is(iterationsFor([{ n: 100, t: 0.5 }], 10), 2000);
  // 100 in 0.5 s, 300 in 1.1 s: 0.3 s per 100 after a 0.2 s warm-up -> 9.8 s more at 333/s.
  assert.is(iterationsFor([{ n: 100, t: 0.5 }, { n: 300, t: 1.1 }], 10), 3267);
  assert.is(iterationsFor([{ n: 1, t: 100 }], 1), 1);
});

const none = { iterationsPerSec: null, validated: false, seconds: null, iterations: null, runs: [], coldIterationsPerSec: null };
const results: EngineResult[] = [
  { engine: 'interp', status: 'ok', iterationsPerSec: 80, validated: true, seconds: 10.1, iterations: 808, runs: [75.5, 80, 91], coldIterationsPerSec: 12.25 },
  { engine: 'native', status: 'unavailable', reason: 'native tier not built', ...none },
  { engine: 'v8', status: 'ok', iterationsPerSec: 20000, validated: true, seconds: 9.9, iterations: 198000, runs: [20000], coldIterationsPerSec: 19000 },
  { engine: 'wasm3', status: 'skipped', reason: 'wasm3 not found on PATH', ...none },
];

test('table: median rate, spread, ratio to v8, cold rate, validated, seconds', () => {
  const lines = formatTable(results).split('\n');
  assert.match(lines[0], /^engine\s+iterations\/s\s+spread\s+vs v8\s+cold\s+validated\s+seconds\s+iterations/);
  assert.match(lines[1], /^interp\s+80\.0\s+75\.5-91\.0\s+0\.0040 \(1\/250\)\s+12\.3\s+yes\s+10\.10\s+808/);
  assert.match(lines[2], /not available: native tier not built/);
  // One run: no spread to show.
  assert.match(lines[3], /^v8\s+20,000\.0\s+-\s+1\.00\s+19,000\.0\s+yes/);
  assert.match(lines[4], /skipped: wasm3 not found on PATH/);
});

test('json shape', () => {
  const json = JSON.parse(formatJson(results)) as { results: Record<string, unknown>[] };
  assert.is(json.results.length, 4);
  for (const r of json.results) for (const key of ['engine', 'iterationsPerSec', 'validated', 'seconds', 'runs', 'coldIterationsPerSec']) assert.ok(key in r, key);
  // Three runs against V8's one do not pair by round: the ratio of the medians, no rounds.
  assert.equal(json.results[0], { engine: 'interp', iterationsPerSec: 80, validated: true, seconds: 10.1, iterations: 808, runs: [75.5, 80, 91], coldIterationsPerSec: 12.25, status: 'ok', vsV8: 0.004 });
});

test('runs combine: the median run, every rate, the median cold rate, every remark once', () => {
  const run = (rate: number, cold: number | null, reason?: string): EngineResult => ({
    engine: 'interp', status: 'ok', iterationsPerSec: rate, validated: true, seconds: rate / 100, iterations: rate, runs: [rate], coldIterationsPerSec: cold, ...(reason ? { reason } : {}),
  });
  const c = combineRuns([run(300, 5, 'slow'), run(100, 7), run(200, 6, 'slow')]);
  assert.is(c.iterationsPerSec, 200);
  assert.is(c.seconds, 2);
  assert.equal(c.runs, [300, 100, 200]);
  assert.is(c.coldIterationsPerSec, 6);
  assert.is(c.reason, 'slow (2 of 3 runs)');
  const even = combineRuns([run(100, null), run(300, null)]);
  assert.is(even.iterationsPerSec, 200);
  assert.is(even.coldIterationsPerSec, null);
  assert.is(combineRuns([{ ...run(100, 5), validated: false }, run(200, 5)]).validated, false);
  assert.is(combineRuns([run(100, 5, 'slow'), run(200, 5, 'slow')]).reason, 'slow');
});

test('svg is well formed and escapes text', () => {
  const svg = formatSvg([...results, { engine: 'iwasm', status: 'failed', reason: 'a <weird> & "odd" failure', ...none }], { module: 'core<mark>.wasm' });
  checkXml(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /a &lt;weird&gt; &amp; &quot;odd&quot; failure/);
  assert.is((svg.match(/<rect /g) ?? []).length, 3); // background + two bars
});

test.run();
