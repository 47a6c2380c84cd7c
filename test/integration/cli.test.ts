import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';
import { ModuleBuilder, name, section, u32 } from '../helpers/module-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-cli-'));
const { i32, i64 } = ValType;

function write(file: string, bytes: Uint8Array): string {
  const path = join(dir, file);
  writeFileSync(path, bytes);
  return path;
}

const b = new ModuleBuilder();
const tAdd = b.type([i32, i32], [i32]);
const tNone = b.type([], []);
const tI64 = b.type([i64], [i64]);
const add = b.func(tAdd, [0x20, 0, 0x20, 1, 0x6a, 0x0b]);
const boom = b.func(tNone, [0x00, 0x0b]);
const callsBoom = b.func(tNone, [0x10, boom, 0x0b]);
const neg = b.func(tI64, [0x42, 0, 0x20, 0, 0x7d, 0x0b]);
b.export('add', 'func', add).export('crash', 'func', callsBoom).export('neg', 'func', neg);
// A name section, so that backtraces show function names.
const names = [...u32(2), ...u32(boom), ...name('boom'), ...u32(callsBoom), ...name('calls_boom')];
b.custom('name', [0x01, ...u32(names.length), ...names]);
const prog = write('prog.wasm', b.build());

test('--invoke calls an export and prints its results', () => {
  const r = wasmig(['run', '--invoke', 'add', prog, '2', '40']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '42\n');
  assert.is(r.status, 0);
  assert.is(wasmig(['run', '--invoke', 'neg', prog, '9223372036854775807']).stdout, '-9223372036854775807\n');
});

test('a trap prints its message and a backtrace with names, and exits 134', () => {
  const r = wasmig(['run', '--invoke', 'crash', prog]);
  assert.is(r.status, 134);
  assert.match(r.stderr, /^wasmig: trap: unreachable\n/);
  assert.match(r.stderr, /0: boom \(function 1 at byte 0x[0-9a-f]+\)/);
  assert.match(r.stderr, /1: calls_boom \(function 2 at byte 0x[0-9a-f]+\)/);
  assert.not.match(r.stderr, /at .*\.ts:\d+/); // no JS stack
});

test('bad input gives one clear line and a non-zero exit', () => {
  const missing = wasmig(['run', join(dir, 'nope.wasm')]);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /nope\.wasm: no such file/);

  const text = write('text.wasm', new TextEncoder().encode('hello, I am not wasm'));
  const notWasm = wasmig(['run', text]);
  assert.is(notWasm.status, 1);
  assert.match(notWasm.stderr, /text\.wasm: not a WebAssembly module: magic header not detected at byte 0x0/);

  const truncated = write('truncated.wasm', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, [1, 0x60])]));
  const t = wasmig(['run', truncated]);
  assert.is(t.status, 1);
  assert.match(t.stderr, /truncated\.wasm: malformed module: .* at byte 0x[0-9a-f]+/);

  const badType = new ModuleBuilder();
  const ty = badType.type([], [i32]);
  badType.func(ty, [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]); // f64.const 0 where an i32 is due
  const invalid = wasmig(['run', write('invalid.wasm', badType.build())]);
  assert.is(invalid.status, 1);
  assert.match(invalid.stderr, /invalid\.wasm: invalid module: function 0 at byte 0x[0-9a-f]+: type mismatch: expected i32, found f64/);

  const imp = new ModuleBuilder();
  imp.importFunc('env', 'missing_fn', imp.type([], []));
  const unlinked = wasmig(['run', write('import.wasm', imp.build())]);
  assert.is(unlinked.status, 1);
  assert.match(unlinked.stderr, /unknown import env\.missing_fn/);

  for (const r of [missing, notWasm, t, invalid, unlinked]) {
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('run and help load MQTT and the snapshot codecs only when they are used (start-up time)', () => {
  const preload = join(repoRoot, 'test/helpers/report-loaded-packages.cjs');
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}` };
  const loaded = (stderr: string): string[] => [...new Set(stderr.split('\n').filter((l) => l.startsWith('LOADED ')).flatMap((l) => JSON.parse(l.slice(7)) as string[]))].sort();
  const plain = wasmig(['run', '--invoke', 'add', prog, '2', '3'], { env });
  assert.is(plain.stdout.trim(), '5');
  assert.equal(loaded(plain.stderr), []);
  const snapshotFile = join(dir, 'lazy.snap');
  const paused = wasmig(['run', '--pause-after', '1', '--snapshot', snapshotFile, '--invoke', 'add', prog, '2', '3'], { env });
  assert.is(paused.status, 0, paused.stderr);
  assert.ok(loaded(paused.stderr).includes('@msgpack'), paused.stderr);
  const fleetHelp = wasmig(['help', 'agent'], { env });
  assert.ok(loaded(fleetHelp.stderr).includes('mqtt'), fleetHelp.stderr);
});

test('usage errors exit 2', () => {
  assert.is(wasmig(['frobnicate']).status, 2);
  assert.is(wasmig(['run']).status, 2);
  assert.is(wasmig(['run', '--invoke', 'add', prog, '1']).status, 2);
  assert.is(wasmig(['run', '--invoke', 'add', prog, 'x', '1']).status, 2);
  // A bad option value is a usage error before any connection is tried (the broker here
  // refuses): --lost-after was read only after connecting, so the broker's error came first.
  const lost = wasmig(['migrate', 'j', '--to', 'b', '--lost-after', '0', '--broker', 'mqtt://127.0.0.1:1']);
  assert.is(lost.status, 2, lost.stderr);
  assert.is(lost.stderr, 'wasmig: --lost-after needs a whole number of at least 1, not "0"\n');
  const help = wasmig(['--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /run \[OPTIONS\] PROG\.wasm/);
});

test.run();
