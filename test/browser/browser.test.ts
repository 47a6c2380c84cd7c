/**
 * wasmig in a real browser: Debian's chromium, driven by playwright-core, loads the
 * browser bundle (`tools/build-browser.ts`, built here into a temporary directory) from a
 * loopback HTTP server.
 *
 * - every test program that needs no files and no stdin prints in the page, on the
 *   interpreter and on the native tier (the page's own WebAssembly), exactly what it
 *   prints in Node, with the same status;
 * - snapshots cross both ways bit-exact: a program paused at instruction A in the page
 *   has the canonical state Node has at A; Node's snapshot at A resumes in the page, which
 *   pauses at B with Node's state at B; the page's snapshot at B resumes in Node, and the
 *   three legs' output is the uninterrupted run's;
 * - on the native tier (V8 in the page): Node's snapshot resumes there to the end, and a
 *   snapshot of a native run paused in the page resumes in Node, with the uninterrupted
 *   run's output;
 * - an in-memory directory (notes.c writing its file in it): the page's snapshot resumes
 *   in Node with the page's state, file bytes and times included, Node's in the page with
 *   Node's, and the file reads back at the end as in an uninterrupted run.
 *
 * Skipped, saying so, where chromium is not installed (`apt-get install chromium`;
 * `.ci/run` does it). `CHROMIUM=/path` picks another executable.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import * as library from '../../src/browser.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { browserBuild } from '../../tools/build-browser.ts';
import { repoRoot } from '../helpers/cli.ts';
import { TestRequirement } from '../helpers/test-data.ts';
import { programCases } from '../programs/cases.ts';
import { leg, runProgram } from './page-runner.mjs';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const chromium = new TestRequirement('chromium', `${CHROMIUM}; apt-get install -y --no-install-recommends chromium`, () => existsSync(CHROMIUM));

const work = mkdtempSync(join(tmpdir(), 'wasmig-browser-'));
const bundle = join(work, 'wasmig.js');
const runner = resolve(repoRoot, 'test/browser/page-runner.mjs');

/** Serves the bundle, the runner, and test/programs/*.wasm; a blank page at `/`. */
function serve(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = url.pathname === '/wasmig.js' ? bundle
      : url.pathname === '/wasmig.js.map' ? `${bundle}.map`
      : url.pathname === '/page-runner.mjs' ? runner
      : /^\/programs\/[a-z_]+\.wasm$/.test(url.pathname) ? resolve(repoRoot, `test${url.pathname}`)
      : undefined;
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>wasmig</title>');
    } else if (file !== undefined && existsSync(file)) {
      const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.map') ? 'application/json' : 'text/javascript';
      response.writeHead(200, { 'content-type': type }).end(readFileSync(file));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolveListen) => server.listen(0, '127.0.0.1', () => resolveListen(server)));
}

const browser = suite('wasmig in chromium');
let server: Server | undefined;
let chrome: Browser | undefined;
let page: Page;

browser.before(async () => {
  if (!chromium.available) return;
  await browserBuild(bundle);
  server = await serve();
  const { chromium: launcher } = await import('playwright-core');
  // --no-sandbox: the tests run as root on CI, where chromium's sandbox refuses to start;
  // --disable-dev-shm-usage: containers often have a tiny /dev/shm.
  chrome = await launcher.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await chrome.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.evaluate(async () => {
    const g = globalThis as unknown as Record<string, unknown>;
    g['wasmig'] = await import('/wasmig.js' as string);
    g['runner'] = await import('/page-runner.mjs' as string);
  });
  assert.equal(errors, []);
});

browser.after(async () => {
  await chrome?.close();
  await new Promise<void>((resolveClose) => (server ? server.close(() => resolveClose()) : resolveClose()));
  rmSync(work, { recursive: true, force: true });
});

/** The cases a page can run: no files, no stdin. */
const pageCases = programCases.filter((c) => c.dirs.length === 0 && (c.setup ?? []).length === 0 && (c.stdin === undefined || c.stdin.length === 0));

interface RunResult { stdout: string; stderr: string; status?: number; trap?: string }

function inPage(bytes: Uint8Array, args: string[], env: Record<string, string>, tier: string): Promise<RunResult> {
  return page.evaluate(({ b, a, e, t }) => {
    const g = globalThis as unknown as { wasmig: unknown; runner: { runProgram: (...x: unknown[]) => RunResult } };
    return g.runner.runProgram(g.wasmig, new Uint8Array(b), { args: a, env: e, tier: t });
  }, { b: [...bytes], a: args, e: env, t: tier });
}

chromium.register(browser, `test programs print in the page what they print in Node, on both tiers (${pageCases.length} cases)`, async () => {
  assert.ok(pageCases.length >= 10, `${pageCases.length} cases`);
  for (const c of pageCases) {
    const bytes = readFileSync(c.wasm);
    const args = [c.program, ...c.args];
    const env = { ...c.env };
    for (const tier of ['interp', 'native']) {
      const node = runProgram(library, bytes, { args, env, tier }) as RunResult;
      const web = await inPage(bytes, args, env, tier);
      // Random bytes and clock readings differ from run to run: those programs print their
      // checks on stdout, not the values; clocks prints measured sleeps on stderr.
      if (c.program === 'clocks') { web.stderr = ''; node.stderr = ''; }
      assert.equal(web, node, `${c.name} on ${tier}`);
    }
  }
});

/** What must be equal between two machines at the same instruction: everything but the clocks' readings. */
function digest(state: CanonicalState): string {
  const replacer = (_key: string, v: unknown): unknown =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? createHash('sha256').update(v).digest('hex') : v;
  const wasi = state.wasi ? { ...state.wasi, clock: null } : null;
  return JSON.stringify({ ...state, wasi }, replacer);
}

interface Leg { stdout: string; stderr: string; status?: number; paused?: number; snapshot?: Uint8Array }

function legInPage(options: { bytes?: Uint8Array; snapshot?: Uint8Array; args?: string[]; until?: number; tier?: string; slice?: number; memDirs?: string[] }): Promise<Leg> {
  return page.evaluate(({ b, s, a, u, t, sl, m }) => {
    const g = globalThis as unknown as { wasmig: unknown; runner: { leg: (...x: unknown[]) => Leg } };
    const r = g.runner.leg(g.wasmig, { bytes: b && new Uint8Array(b), snapshot: s && new Uint8Array(s), args: a, until: u, tier: t, slice: sl, memDirs: m });
    return { ...r, snapshot: r.snapshot && [...r.snapshot] } as unknown as Leg;
  }, { b: options.bytes && [...options.bytes], s: options.snapshot && [...options.snapshot], a: options.args, u: options.until, t: options.tier, sl: options.slice, m: options.memDirs }).then((r) => ({
    ...r, snapshot: r.snapshot && Uint8Array.from(r.snapshot as unknown as number[]),
  }));
}

chromium.register(browser, 'a snapshot crosses Node -> page -> Node bit-exact, and the output is the uninterrupted run\'s', async () => {
  const bytes = readFileSync(resolve(repoRoot, 'test/programs/qsort_printf.wasm'));
  const args = ['qsort_printf'];
  const whole = leg(library, { bytes, args }) as Leg;
  const [A, B] = [150_000, 600_000];
  // Node's states at A and at B, on one uninterrupted run.
  const nodeA = leg(library, { bytes, args, until: A }) as Leg;
  const nodeB = leg(library, { bytes, args, until: B }) as Leg;
  assert.is(nodeA.paused, A);
  assert.is(nodeB.paused, B);
  // The page from the start to A: Node's state at A.
  const pageA = await legInPage({ bytes, args, until: A });
  assert.is(pageA.paused, A);
  assert.is(digest(decodeSnapshot(pageA.snapshot!).state), digest(decodeSnapshot(nodeA.snapshot!).state));
  assert.is(pageA.stdout, nodeA.stdout);
  // Node's snapshot at A resumed in the page, to B: Node's state at B.
  const pageB = await legInPage({ snapshot: nodeA.snapshot, until: B });
  assert.is(pageB.paused, B);
  assert.is(digest(decodeSnapshot(pageB.snapshot!).state), digest(decodeSnapshot(nodeB.snapshot!).state));
  // The page's snapshot at B resumed in Node, to the end.
  const rest = leg(library, { snapshot: pageB.snapshot }) as Leg;
  assert.is(rest.status, whole.status);
  assert.is(nodeA.stdout + pageB.stdout + rest.stdout, whole.stdout);
  assert.ok(whole.stdout.length > 100, 'the program printed something to compare');
});

chromium.register(browser, 'the native tier in the page: it resumes Node\'s snapshot, and its own snapshot resumes in Node', async () => {
  const bytes = readFileSync(resolve(repoRoot, 'test/programs/qsort_printf.wasm'));
  const args = ['qsort_printf'];
  const whole = leg(library, { bytes, args }) as Leg;
  const nodeA = leg(library, { bytes, args, until: 150_000 }) as Leg;
  const finish = await legInPage({ snapshot: nodeA.snapshot, tier: 'native' });
  assert.is(finish.status, whole.status);
  assert.is(nodeA.stdout + finish.stdout, whole.stdout);
  // One slice of 1 ms on V8 in the page (the first slice also rewrites and compiles), then to Node.
  const slice = await legInPage({ bytes, args, tier: 'native', slice: 1 });
  assert.ok(slice.snapshot, `the page's native run paused (it ended with status ${slice.status})`);
  const rest = leg(library, { snapshot: slice.snapshot }) as Leg;
  assert.is(rest.status, whole.status);
  assert.is(slice.stdout + rest.stdout, whole.stdout);
});

chromium.register(browser, 'an in-memory directory crosses page -> Node -> page bit-exact with the program writing in it, and its file reads back as uninterrupted', async () => {
  const bytes = readFileSync(resolve(repoRoot, 'test/programs/notes.wasm'));
  const args = ['notes', 'lines=20', 'work=500'];
  const memDirs = ['/data'];
  const whole = leg(library, { bytes, args, memDirs }) as Leg;
  const [A, B] = [150_000, 400_000];
  // The page from the start to A, its file open; resumed in Node, the state is the page's, times and all.
  const pageA = await legInPage({ bytes, args, memDirs, until: A });
  assert.is(pageA.paused, A);
  const atA = decodeSnapshot(pageA.snapshot!).state;
  assert.ok(atA.wasi?.preopens[0]?.mem?.nodes.some((n) => n.type === 'file' && n.data.length > 0), 'notes.txt has notes in it at A');
  assert.is(digest(decodeSnapshot((leg(library, { snapshot: pageA.snapshot, until: A }) as Leg).snapshot!).state), digest(atA));
  // Node from A to B; resumed in the page, the state is Node's.
  const nodeB = leg(library, { snapshot: pageA.snapshot, until: B }) as Leg;
  assert.is(nodeB.paused, B);
  const atB = decodeSnapshot(nodeB.snapshot!).state;
  assert.is(digest(decodeSnapshot((await legInPage({ snapshot: nodeB.snapshot, until: B })).snapshot!).state), digest(atB));
  // The page to the end: it reads the whole file back.
  const rest = await legInPage({ snapshot: nodeB.snapshot });
  assert.is(rest.status, whole.status);
  assert.is(pageA.stdout + nodeB.stdout + rest.stdout, whole.stdout);
  assert.match(whole.stdout, /read back \d+ bytes:\nnote 1 /);
});

browser.run();
