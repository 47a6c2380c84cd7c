/**
 * A job's files move with it into a browser tab and back (issue 19): `wasmig run --on a
 * --mem-dir /data=FOLDER` starts notes.c on Node agent a with an in-memory directory
 * seeded from a host folder; the job keeps a file open in it and writes to it as it runs.
 * It moves a -> the tab (served by `wasmig dashboard`, the job in a Web Worker on the
 * native tier) -> a, both moves with `wasmig migrate`, and reads the file back at the
 * end: its output, read with `wasmig attach`, equals an uninterrupted run's. The tab has
 * no directories; it takes the job because its directory lives in the job's state.
 * Skipped, saying so, where chromium is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'playwright-core';
import { loadMemDir } from '../../src/cli/mem-dir.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { browserAgentBuild } from '../../tools/build-browser.ts';
import { repoRoot } from '../helpers/cli.ts';
import { agentProc, cli, stopAll, wasmigProc, webSocketBroker } from '../helpers/fleet.ts';
import { TestRequirement } from '../helpers/test-data.ts';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const chromium = new TestRequirement('chromium', `${CHROMIUM}; apt-get install -y --no-install-recommends chromium`, () => existsSync(CHROMIUM));
const WAIT_MS = Number(process.env['WASMIG_TEST_WAIT_MS'] ?? 90_000);
const notesPath = resolve(repoRoot, 'test/programs/notes.wasm');

const work = mkdtempSync(join(tmpdir(), 'wasmig-browser-mem-dir-'));
const s = suite('a job with an in-memory directory moves into a tab and back');
let chrome: Browser | undefined;

s.after(async () => {
  await chrome?.close();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, log: () => Promise<string>): Promise<void> {
  for (let waited = 0; !(await check()); waited += 200) {
    if (waited > WAIT_MS) throw new Error(`${what}: not seen within ${WAIT_MS} ms; the tab's log:\n${await log().catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What notes.c prints run here, uninterrupted, with the same seed. */
function uninterrupted(folder: string, args: string[]): { stdout: string; status: number } {
  const out: Uint8Array[] = [];
  const program = Program.instantiate(loadModule(readFileSync(notesPath)), {
    // Its output does not depend on the sleeps: not slept here.
    args: ['notes.wasm', ...args.filter((a) => !a.startsWith('sleep='))], env: {}, memDirs: [{ guest: '/data', files: loadMemDir(folder, 1 << 20, 'seed') }],
    stdout: (d) => { out.push(d); }, stderr: () => {},
  });
  program.start('_start');
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  program.wasi.close();
  return { stdout: Buffer.concat(out).toString(), status: outcome.kind === 'exited' ? outcome.status : -1 };
}

chromium.register(s, 'notes.c writes its file on a, in the tab and on a again, and reads it all back', async () => {
  await browserAgentBuild(work);
  const folder = join(work, 'seed');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  writeFileSync(join(folder, 'seed.txt'), 'planted on the laptop\n');
  writeFileSync(join(folder, 'sub', 'more.txt'), 'x'.repeat(5000));
  const { tcp, ws } = await webSocketBroker();
  await agentProc('a', ws);
  const server = wasmigProc(['dashboard', '--port', '0', '--broker', ws], { label: 'wasmig dashboard', env: { WASMIG_BROWSER_BUNDLES: work } });
  const agentUrl = (await server.waitFor(/browser agent: (http:\/\/\S+)/, 'out'))[1]!;

  const { chromium: launcher } = await import('playwright-core');
  chrome = await launcher.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const errors: string[] = [];
  const tab = await chrome.newPage();
  tab.on('pageerror', (error) => errors.push(`tab: ${error.message}`));
  const log = async (): Promise<string> => await tab.textContent('#log') ?? '';
  await tab.goto(agentUrl);
  await until('the tab online as agent tab', async () => {
    const state = await tab.textContent('#state') ?? '';
    if (state.startsWith('could not')) throw new Error(`the tab: ${state}`);
    return /^online at ws:/.test(state);
  }, log);

  // Long enough (600 x 40 ms at least) for both moves while it runs, on a loaded machine too.
  const args = ['lines=600', 'work=200', 'sleep=40'];
  const started = await cli(['run', '--on', 'a', '--detach', '--job', 'files', '--mem-dir', `/data=${folder}`, '--broker', tcp, notesPath, ...args]);
  assert.is(started.status, 0, started.stderr);
  const state = async (): Promise<string> => (await cli(['ps', '--broker', tcp])).stdout;
  await until('the job running on a', async () => /^files\s+a\s+running\b/m.test(await state()), log);
  const there = await cli(['migrate', 'files', '--to', 'tab', '--broker', tcp]);
  assert.is(there.status, 0, there.stderr);
  await until('the job running in the tab', async () => /^files\s+tab\s+running\b/m.test(await state()), log);
  const inTab = await tab.evaluate(() => (globalThis as unknown as { browserAgent: { jobs: Map<string, { state: string }> } }).browserAgent.jobs.get('files')?.state);
  assert.is(inTab, 'running');
  const back = await cli(['migrate', 'files', '--to', 'a', '--broker', tcp]);
  assert.is(back.status, 0, `${back.stderr} (the job must still run in the tab: a slow machine may need more lines)`);

  const output = await cli(['attach', 'files', '--broker', tcp]);
  const expected = uninterrupted(folder, args);
  assert.is(output.status, expected.status, output.stderr);
  assert.match(output.stdout, /^seed seed\.txt 22 bytes/m);
  assert.match(output.stdout, /^read back \d+ bytes:\nnote 1 /m);
  assert.is(output.stdout, expected.stdout);
  assert.equal(errors, []);
  await tab.close();
  assert.is(await server.stop('SIGINT'), 0, server.err);
});

s.run();
