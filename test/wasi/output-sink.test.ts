/** WASI stdout/stderr to an output sink (a callback) instead of a host fd. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { repoRoot } from '../helpers/cli.ts';

test('writes to stdout and stderr reach their sinks, in order, as copies', () => {
  const events: [number, string][] = [];
  const wasi = new WasiHost({
    args: ['ticker', 'lines=20', 'work=10'], env: {}, preopens: [],
    stdout: (d) => { events.push([1, Buffer.from(d).toString()]); },
    stderr: (d) => { events.push([2, Buffer.from(d).toString()]); },
  });
  const program = Program.withWasi(loadModule(readFileSync(resolve(repoRoot, 'test/programs/ticker.wasm'))), wasi);
  program.start('_start');
  const outcome = program.run();
  assert.equal(outcome, { kind: 'exited', status: 0 });
  const out = events.filter(([s]) => s === 1).map(([, t]) => t).join('');
  assert.match(out, /^ticker: 20 lines, 1 MiB filled\ntick 1\/20 [0-9a-f]{16}\n/);
  assert.match(out, /done [0-9a-f]{16}\n$/);
  // stderr's "note 10" comes right after line 10, before line 11.
  const i10 = events.findIndex(([s, t]) => s === 1 && t.startsWith('tick 10/'));
  assert.equal(events[i10 + 1], [2, 'note 10\n']);
});

test('a sink is a terminal to the guest; a resumed program writes to the new host\'s sinks', () => {
  const module = loadModule(readFileSync(resolve(repoRoot, 'test/programs/ticker.wasm')));
  const args = ['ticker', 'lines=30', 'work=2000', 'mem=0'];
  const whole: string[] = [];
  const full = Program.withWasi(module, new WasiHost({ args, env: {}, preopens: [], stdout: (d) => { whole.push(Buffer.from(d).toString()); }, stderr: () => {} }));
  full.start('_start');
  full.run();
  const total = full.execution?.instructions ?? 0;

  const before: string[] = [];
  const first = Program.withWasi(module, new WasiHost({ args, env: {}, preopens: [], stdout: (d) => { before.push(Buffer.from(d).toString()); }, stderr: () => {} }));
  assert.is(first.wasi.captureState().fds.find((f) => f.fd === 1)?.filetype, 2); // CHARACTER_DEVICE
  first.start('_start');
  assert.is(first.run({ until: Math.floor(total / 2) }).kind, 'paused');
  const after: string[] = [];
  const second = Program.resume(first.snapshot(), { module, stdout: (d) => { after.push(Buffer.from(d).toString()); }, stderr: () => {} });
  let outcome = second.run();
  while (outcome.kind === 'paused') outcome = second.run();
  assert.ok(before.length > 0 && after.length > 0, 'output on both sides of the move');
  assert.is(before.join('') + after.join(''), whole.join(''));
});

test.run();
