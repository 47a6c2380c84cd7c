/**
 * The disk cache of rewritten modules (`disk-cache.ts`): a second engine (a second
 * process, as far as the cache can tell) loads what the first stored and never runs the
 * rewriter; a corrupt or truncated entry is ignored, reported once and replaced;
 * concurrent writers leave a whole entry; the bound evicts the least recently used; and
 * the CLI's `--no-cache` writes nothing. Every test uses a temporary directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AutoEngine, defaultCacheDir, DiskRewriteCache, NativeEngine, NativeExecution, nativeTierOf, rewriteModule, TieringExecution } from '../../src/native/index.ts';
import type { RewriteOptions } from '../../src/native/index.ts';
import { bodyFacts } from '../../src/compile/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Engine } from '../../src/runtime/index.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const tickerPath = new URL('../programs/ticker.wasm', import.meta.url);
const bytes = new Uint8Array(readFileSync(tickerPath));
/** The rewrite options an engine uses by default (its memory shared or not, as this host makes them). */
const DEFAULTS: RewriteOptions = new NativeEngine().options.rewrite ?? {};
const args = ['ticker.wasm', 'lines=3', 'work=200000', 'mem=1'];
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-cache-test-'));
  dirs.push(dir);
  return dir;
}

const entries = (dir: string): string[] => existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.rw')) : [];

/** Runs the ticker to its end on `engine` (a fresh compile of the module, as a new process has); returns its output. */
function runOn(engine: Engine, pauseAtPoll?: number): string {
  const chunks: Buffer[] = [];
  const compiled = loadModule(bytes);
  const p = Program.instantiate(compiled, { args, stdout: (d) => { chunks.push(Buffer.from(d)); }, engine });
  let resumed = p;
  if (pauseAtPoll !== undefined) {
    // Pausing at a safepoint reads the rewrite's metadata: the cached one must serve as well.
    const tier = nativeTierOf(p, { pollInterval: 1 });
    let polls = 0;
    tier.pollHook = () => ++polls === pauseAtPoll;
    assert.is(p.run().kind, 'paused', 'paused at a safepoint');
    resumed = Program.resume(p.snapshot(), { module: compiled, args, stdout: (d) => { chunks.push(Buffer.from(d)); }, engine });
  }
  assert.is(resumed.run().kind, 'exited');
  return Buffer.concat(chunks).toString('utf8');
}

const reference = runOn(new NativeEngine());

test('a second engine on the same directory loads the rewrite instead of rewriting', () => {
  const dir = tempDir();
  const first = new NativeEngine({}, new DiskRewriteCache({ dir }));
  assert.is(runOn(first), reference);
  assert.equal(first.rewrites.stats, { rewritten: 1, loaded: 0 });
  assert.is(entries(dir).length, 1, 'one entry written');

  const disk = new DiskRewriteCache({ dir });
  const second = new NativeEngine({}, disk);
  assert.is(runOn(second, 40), reference, 'paused at a safepoint and resumed, from the cached metadata');
  assert.is(second.rewrites.stats.rewritten, 0, 'the rewriter never ran');
  assert.is(second.rewrites.stats.loaded, 1);
  assert.is(disk.stats.hits, 1);
});

test('a cached module is loaded without validating its bodies again, from what its entry keeps', () => {
  const dir = tempDir();
  const first = new NativeEngine({}, new DiskRewriteCache({ dir }));
  assert.is(first.knownFacts(bytes), undefined, 'nothing cached yet');
  assert.is(runOn(first), reference);

  const disk = new DiskRewriteCache({ dir });
  const second = new NativeEngine({}, disk);
  const facts = second.knownFacts(bytes);
  assert.ok(facts !== undefined, 'the entry keeps what validation found');
  const validated = loadModule(bytes);
  assert.equal(facts, bodyFacts(validated));
  const compiled = loadModule(bytes, (b) => second.knownFacts(b));
  assert.equal(compiled.functions.map((f) => f.frameSize), validated.functions.map((f) => f.frameSize));
  assert.is(compiled.tailCallUse, validated.tailCallUse);

  // The start finds the entry read already: one hit, no second read, no rewrite.
  const out: Buffer[] = [];
  const p = Program.instantiate(compiled, { args, stdout: (d) => { out.push(Buffer.from(d)); }, engine: second });
  assert.is(p.run().kind, 'exited');
  assert.is(Buffer.concat(out).toString('utf8'), reference);
  assert.equal(second.rewrites.stats, { rewritten: 0, loaded: 1 });
  assert.is(disk.stats.hits, 1);

  // Skipped means skipped: bodies the facts vouch for are not looked at (a cache entry
  // is keyed by its module's sha256, so only the bytes validated can meet their facts).
  const module = (body: number[]): Uint8Array => {
    const b = new ModuleBuilder();
    b.func(b.type([], []), body);
    return b.build();
  };
  const good = bodyFacts(loadModule(module([0x41, 1, 0x1a, 0x0b])));
  const bad = module([0x6a, 0x1a, 0x0b]); // i32.add on an empty stack
  assert.throws(() => loadModule(bad), /type mismatch|empty|operand/);
  assert.is(loadModule(bad, () => good).functions.length, 1);
});

test('other rewrite options are another entry', () => {
  const dir = tempDir();
  const disk = new DiskRewriteCache({ dir });
  const compiled = loadModule(bytes);
  disk.store(bytes, {}, rewriteModule(compiled.context, {}), bodyFacts(compiled));
  assert.is(disk.load(bytes, { unroll: 2 }), undefined);
  assert.ok(disk.load(bytes, {}) !== undefined);
  assert.is.not(disk.key(bytes, { unroll: 2 }), disk.key(bytes, {}));
  assert.is(disk.key(bytes, { unroll: 2, loopPoll: 'local' }), disk.key(bytes, { loopPoll: 'local', unroll: 2 }), 'option order does not matter');
});

for (const [what, spoil] of [
  ['a flipped byte', (path: string) => { const b = readFileSync(path); b[b.length >> 1] ^= 0x40; writeFileSync(path, b); }],
  ['a truncated file', (path: string) => truncateSync(path, statSync(path).size >> 1)],
  ['an empty file', (path: string) => truncateSync(path, 0)],
] as const) {
  test(`an entry with ${what} is ignored, reported once and replaced`, () => {
    const dir = tempDir();
    runOn(new NativeEngine({}, new DiskRewriteCache({ dir })));
    const [name] = entries(dir);
    spoil(join(dir, name!));

    const warnings: string[] = [];
    const disk = new DiskRewriteCache({ dir }, (m) => warnings.push(m));
    assert.is(disk.load(bytes, DEFAULTS), undefined, 'not used');
    assert.is(disk.load(bytes, DEFAULTS), undefined);
    assert.is(warnings.length, 1, 'reported once');
    assert.match(warnings[0]!, name!);
    const engine = new NativeEngine({}, disk);
    assert.is(runOn(engine), reference);
    assert.is(engine.rewrites.stats.rewritten, 1, 'rewritten');

    const after = new NativeEngine({}, new DiskRewriteCache({ dir }, (m) => warnings.push(m)));
    assert.is(runOn(after), reference);
    assert.is(after.rewrites.stats.loaded, 1, 'the replaced entry loads');
    assert.is(warnings.length, 1);
  });
}

test('two processes writing the same entry at once leave a whole one', async () => {
  const dir = tempDir();
  const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
  // Each writer stores the entry 15 times; the entries are identical, the writes interleave.
  const script = `
    import { readFileSync } from 'node:fs';
    import { DiskRewriteCache, NativeEngine, rewriteModule } from ${JSON.stringify(resolve(repoRoot, 'src/native/index.ts'))};
    import { loadModule } from ${JSON.stringify(resolve(repoRoot, 'src/program/index.ts'))};
    const bytes = new Uint8Array(readFileSync(process.argv[2]));
    import { bodyFacts } from ${JSON.stringify(resolve(repoRoot, 'src/compile/index.ts'))};
    const compiled = loadModule(bytes);
    const options = new NativeEngine().options.rewrite ?? {};
    const rewritten = rewriteModule(compiled.context, options);
    const disk = new DiskRewriteCache({ dir: process.argv[3] });
    for (let i = 0; i < 15; i++) disk.store(bytes, options, rewritten, bodyFacts(compiled));
  `;
  const file = join(dir, '..', `${dir.split('/').pop()}-writer.ts`);
  writeFileSync(file, script);
  dirs.push(file);
  const writer = (): Promise<number> => new Promise((done) => {
    const child = spawn(process.execPath, [tsx, file, tickerPath.pathname, dir], { stdio: 'ignore' });
    child.on('close', (code) => done(code ?? -1));
  });
  const reader = new DiskRewriteCache({ dir }, () => {});
  const writers = Promise.all([writer(), writer()]);
  let done = false;
  void writers.then(() => { done = true; });
  // Meanwhile, every read finds no entry or a whole one.
  while (!done) {
    reader.load(bytes, DEFAULTS);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await writers, [0, 0]);
  assert.is(reader.stats.corrupt, 0, 'no reader saw half an entry');
  assert.equal(readdirSync(dir).filter((n) => !n.endsWith('.rw')), [], 'no temporary file left');
  assert.is(entries(dir).length, 1);
  const engine = new NativeEngine({}, new DiskRewriteCache({ dir }));
  assert.is(runOn(engine), reference);
  assert.is(engine.rewrites.stats.loaded, 1);
});

test('the bound evicts the least recently used entries', () => {
  const dir = tempDir();
  const compiled = loadModule(bytes);
  const options: RewriteOptions[] = [{ unroll: 1 }, { unroll: 2 }, { unroll: 3 }];
  const probe = new DiskRewriteCache({ dir: tempDir() });
  probe.store(bytes, options[0]!, rewriteModule(compiled.context, options[0]), bodyFacts(compiled));
  const size = statSync(join(probe.config.dir, entries(probe.config.dir)[0]!)).size;

  // Room for two entries (unrolling changes their sizes a little), not three.
  const disk = new DiskRewriteCache({ dir, maxBytes: Math.floor(size * 2.6) });
  const stamp = (o: RewriteOptions, seconds: number): void => {
    const t = new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
    utimesSync(disk.pathOf(disk.key(bytes, o)), t, t);
  };
  disk.store(bytes, options[0]!, rewriteModule(compiled.context, options[0]), bodyFacts(compiled));
  stamp(options[0]!, 1);
  disk.store(bytes, options[1]!, rewriteModule(compiled.context, options[1]), bodyFacts(compiled));
  stamp(options[1]!, 2);
  // Using the older entry makes it the more recent one...
  assert.ok(disk.load(bytes, options[0]!) !== undefined);
  // ...so the third evicts the other.
  disk.store(bytes, options[2]!, rewriteModule(compiled.context, options[2]), bodyFacts(compiled));
  assert.is(entries(dir).length, 2);
  assert.is(disk.stats.evicted, 1);
  assert.ok(existsSync(disk.pathOf(disk.key(bytes, options[0]!))), 'the recently used one stays');
  assert.not.ok(existsSync(disk.pathOf(disk.key(bytes, options[1]!))), 'the least recently used one went');

  const tiny = new DiskRewriteCache({ dir: tempDir(), maxBytes: 1000 });
  tiny.store(bytes, {}, rewriteModule(compiled.context, {}), bodyFacts(compiled));
  assert.is(entries(tiny.config.dir).length, 0, 'an entry larger than the bound is not written');
});

test('auto: the worker stores its rewrite, and the next engine skips the worker', () => {
  const dir = tempDir();
  const auto = (): AutoEngine => new AutoEngine(new NativeEngine({ backgroundRewriteBytes: 0 }, new DiskRewriteCache({ dir })));
  const first = auto();
  const a = Program.instantiate(loadModule(bytes), { args, stdout: () => {}, engine: first });
  assert.ok(a.start() instanceof TieringExecution, 'rewritten in a worker');
  assert.is(a.run().kind, 'exited');
  assert.is(entries(dir).length, 1, 'stored by the worker');

  const second = auto();
  const b = Program.instantiate(loadModule(bytes), { args, stdout: () => {}, engine: second });
  assert.ok(b.start() instanceof NativeExecution, 'native at once');
  assert.is(b.run().kind, 'exited');
  assert.equal(second.native.rewrites.stats, { rewritten: 0, loaded: 1 });
});

test('the cache directory: WASMIG_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
  assert.is(defaultCacheDir({ WASMIG_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/c' }), '/x/y');
  assert.is(defaultCacheDir({ WASMIG_CACHE_DIR: 'off' }), undefined);
  assert.is(defaultCacheDir({ WASMIG_CACHE_DIR: '' }), undefined);
  assert.is(defaultCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/wasmig');
  assert.match(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })!, /\.cache\/wasmig$/);
});

test('wasmig run stores rewrites in the cache, and writes nothing with --no-cache', () => {
  const program = resolve(repoRoot, 'test/programs/hello.wasm');
  for (const [label, options, env, written] of [
    ['--no-cache', ['--no-cache'], {}, 0],
    ['WASMIG_CACHE_DIR=off', [], { WASMIG_CACHE_DIR: 'off' }, 0],
    ['default', [], {}, 1],
  ] as const) {
    const dir = tempDir();
    // XDG_CACHE_HOME too, so that a cache turned off cannot land in a default place either.
    const r = wasmig(['run', '--tier', 'native', ...options, program], { env: { ...process.env, WASMIG_CACHE_DIR: dir, XDG_CACHE_HOME: dir, ...env } });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(readdirSync(dir).length, written, label);
  }
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
