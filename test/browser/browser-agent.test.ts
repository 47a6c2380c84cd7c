/**
 * A browser tab is a device (issue 19): chromium opens `wasmig dashboard`'s `/agent`
 * page, and the tab joins the fleet as agent `tab` beside two Node agents (a over
 * WebSocket, b over TCP). The dashboard lists all three; a job starts on a, migrates into
 * the tab, runs there on the native tier (the page's WebAssembly, in a Web Worker),
 * migrates back to a, and its output equals an uninterrupted run's. The job is started
 * and moved into the tab and back with the dashboard's controls (its output tail and
 * its chart of moves checked), and its output read with `wasmig attach`. Closing the tab takes
 * agent `tab` offline (its last will). In a fleet with a key, the tab and the dashboard
 * take the key file picked in the page, and a job moves ka -> tab (`wasmig migrate`) ->
 * ka (the dashboard) sealed and signed, both moves in the dashboard's chart, its output
 * that of an uninterrupted run; an identity file read in chromium signs what Node checks
 * (the same Ed25519 bytes) and checks what Node signed. A screenshot of the dashboard goes to
 * test/output/browser-agent.png (and a small .jpg), checked for the agents' and the job's names.
 *
 * The bundles are built here (`browserAgentBuild`) into a temporary directory, which the
 * dashboard serves (`WASMIG_BROWSER_BUNDLES`). Skipped, saying so, where chromium is not
 * installed. Every wait is on a condition, none on a fixed sleep.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { DeviceIdentity, FleetAuthority, topics } from '../../src/agent/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { browserAgentBuild } from '../../tools/build-browser.ts';
import { repoRoot } from '../helpers/cli.ts';
import { agentProc, cli, stopAll, wasmigProc, webSocketBroker } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';
import { TestRequirement } from '../helpers/test-data.ts';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const chromium = new TestRequirement('chromium', `${CHROMIUM}; apt-get install -y --no-install-recommends chromium`, () => existsSync(CHROMIUM));
const SCREENSHOT = resolve(repoRoot, 'test/output/browser-agent.png');
/** Generous: under load a migration (module upload, native rewrite in the tab) takes seconds. */
const WAIT_MS = Number(process.env['WASMIG_TEST_WAIT_MS'] ?? 90_000);

const work = mkdtempSync(join(tmpdir(), 'wasmig-browser-agent-'));
const s = suite('a browser tab as an agent');
let chrome: Browser | undefined;

s.after(async () => {
  await chrome?.close();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** The text of a table's rows, one string per row. */
function rows(page: Page, table: string): Promise<string[]> {
  return page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent).join(' | ')));
}

/** The one chromium of these tests, launched at first use. */
async function browser(): Promise<Browser> {
  const { chromium: launcher } = await import('playwright-core');
  chrome ??= await launcher.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  return chrome;
}

/** What the tab said on its console, and its log, for a failure's message. */
const tabConsole: string[] = [];
let tabLog: () => Promise<string> = async () => '';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  for (let waited = 0; !(await check()); waited += 200) {
    if (waited > timeoutMs) {
      const log = await tabLog().catch(() => '');
      throw new Error(`${what}: not seen within ${timeoutMs} ms${tabConsole.length ? `; the tab's console: ${tabConsole.slice(-10).join(' / ')}` : ''}${log ? `; the tab's log:\n${log}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

chromium.register(s, 'a job moves Node -> tab -> Node, runs natively in the tab, and prints what an uninterrupted run prints', async () => {
  await browserAgentBuild(work);
  const { tcp, ws } = await webSocketBroker();
  await Promise.all([agentProc('a', ws), agentProc('b', tcp)]);
  const server = wasmigProc(['dashboard', '--port', '0', '--broker', ws], { label: 'wasmig dashboard', env: { WASMIG_BROWSER_BUNDLES: work } });
  const url = (await server.waitFor(/wasmig dashboard: (http:\/\/\S+)/, 'out'))[1]!;
  const agentUrl = (await server.waitFor(/browser agent: (http:\/\/\S+)/, 'out'))[1]!;
  assert.is(agentUrl, `${url}agent?name=tab`);

  const errors: string[] = [];
  const tab = await (await browser()).newPage();
  tab.on('pageerror', (error) => errors.push(`tab: ${error.message}`));
  tab.on('console', (message) => { tabConsole.push(message.text()); });
  tabLog = async () => await tab.textContent('#log') ?? '';
  await tab.goto(agentUrl);
  await until('the tab online as agent tab', async () => {
    const state = await tab.textContent('#state') ?? '';
    if (state.startsWith('could not')) throw new Error(`the tab: ${state}`);
    return /^online at ws:/.test(state);
  });

  const dashboard = await (await browser()).newPage({ viewport: { width: 900, height: 900 } });
  dashboard.on('pageerror', (error) => errors.push(`dashboard: ${error.message}`));
  await dashboard.goto(url);
  await until('the dashboard listing a, b and the tab online', async () => {
    const agents = await rows(dashboard, 'agents');
    return ['a', 'b', 'tab'].every((n) => agents.some((r) => r.startsWith(`${n} | online`)));
  });
  assert.ok((await rows(dashboard, 'agents')).some((r) => /^tab \| online \| native \|.*\| browser$/.test(r)), 'the tab: tier native, host browser');

  // Started and moved into the tab from the dashboard's controls (the fleet client in the page).
  await until('the dashboard\'s controls ready', async () => /^controls: ready/.test(await dashboard.textContent('#control-state') ?? ''));
  // Long enough (at least 600 x 40 ms) to make both moves while it runs, even on a loaded machine.
  const args = ['lines=600', 'work=200', 'sleep=40', 'mem=2', 'status=3'];
  await dashboard.setInputFiles('#start-module', tickerPath);
  await dashboard.fill('#start-args', args.join(' '));
  await dashboard.fill('#start-job', 'tab-job');
  await dashboard.selectOption('#start-agent', 'a');
  await dashboard.click('#start');
  await until('the job running on a', async () => (await rows(dashboard, 'jobs')).some((r) => /^tab-job \| running \| a \| ticker\.wasm/.test(r)));
  await until('its output in the dashboard\'s tail', async () => /^tick 1\b/m.test(await dashboard.textContent('#tail') ?? ''));

  await until('the job to move offered', async () => (await dashboard.$$eval('#move-job option', (os) => os.map((o) => o.textContent))).includes('tab-job'));
  await dashboard.selectOption('#move-job', 'tab-job');
  await dashboard.selectOption('#move-to', 'tab');
  await dashboard.click('#move');
  await until('the move into the tab done', async () => /^controls: moved tab-job from a to tab/.test(await dashboard.textContent('#control-state') ?? ''));
  await until('the job running in the tab', async () => (await rows(dashboard, 'jobs')).some((r) => /^tab-job \| running \| tab \|/.test(r)));
  const moved = await dashboard.evaluate(() => (globalThis as unknown as { dashboardMoves: { from: string; to: string; downtimeMs: number; bytesSent: number }[] }).dashboardMoves);
  assert.is(moved.length, 1);
  assert.is(`${moved[0]!.from}->${moved[0]!.to}`, 'a->tab');
  assert.ok(moved[0]!.downtimeMs > 0 && moved[0]!.bytesSent > 0, JSON.stringify(moved[0]));
  assert.equal(await rows(dashboard, 'moves').then((r) => r.map((x) => x.split(' | ').slice(0, 3).join(' '))), ['tab-job a tab']);
  // It runs there, on the native tier: the tab's agent holds it, in a Web Worker.
  const inTab = await tab.evaluate(() => {
    const agent = (globalThis as unknown as { browserAgent: { tier: string; jobs: Map<string, { state: string }> } }).browserAgent;
    return { tier: agent.tier, state: agent.jobs.get('tab-job')?.state };
  });
  assert.equal(inTab, { tier: 'native', state: 'running' });
  assert.match(await tab.textContent('#log') ?? '', /job tab-job now runs here \(epoch \d+, from a\)/);

  // Back to a from the controls too (no process to spawn: the job has all its remaining lines to go).
  await dashboard.selectOption('#move-to', 'a');
  await dashboard.click('#move');
  await until('the move back to a done', async () => {
    const said = await dashboard.textContent('#control-state') ?? '';
    if (/^controls: job tab-job has exited/.test(said)) throw new Error(`the job ended in the tab before its move back (${said}): the machine is slower than this test's 24 s job allows`);
    return /^controls: moved tab-job from tab to a/.test(said);
  });
  await until('the job back on a', async () => (await rows(dashboard, 'jobs')).some((r) => /^tab-job \| (running|exited \(3\)) \| a \|/.test(r)));
  assert.equal(await rows(dashboard, 'moves').then((r) => r.map((x) => x.split(' | ').slice(0, 3).join(' '))), ['tab-job a tab', 'tab-job tab a']);

  mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
  await dashboard.screenshot({ path: SCREENSHOT, fullPage: true });
  // The same, small, for the README (docs/dashboard.jpg is a copy of one).
  await dashboard.screenshot({ path: SCREENSHOT.replace(/\.png$/, '.jpg'), type: 'jpeg', quality: 60, fullPage: true });
  const png = readFileSync(SCREENSHOT);
  assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  // What the shot shows: the first cell of each row, the agents' and the job's names.
  const shownAgents = (await rows(dashboard, 'agents')).map((r) => r.split(' | ')[0]);
  const shownJobs = (await rows(dashboard, 'jobs')).map((r) => r.split(' | ')[0]);
  assert.equal(shownAgents, ['a', 'b', 'tab']);
  assert.equal(shownJobs, ['tab-job']);

  const output = await cli(['attach', 'tab-job', '--broker', tcp]);
  const expected = tickerOutput(args);
  assert.is(output.status, 3, output.stderr);
  assert.is(output.stdout, expected.stdout);
  // The dashboard's tail followed it across both moves to its end.
  await until('the end in the dashboard\'s tail', async () => /\[tab-job exited with status 3 on a\]/.test(await dashboard.textContent('#tail') ?? ''));
  const tailText = await dashboard.textContent('#tail') ?? '';
  for (const line of expected.stdout.trimEnd().split('\n').slice(-2)) assert.ok(tailText.includes(`${line}\n`), `the tail has ${line}`);

  // A job started in the tab itself from the dashboard, and stopped there from it.
  await dashboard.fill('#start-args', 'lines=100000 sleep=20');
  await dashboard.fill('#start-job', 'stop-job');
  await dashboard.selectOption('#start-agent', 'tab');
  await dashboard.click('#start');
  await until('stop-job running in the tab', async () => (await rows(dashboard, 'jobs')).some((r) => /^stop-job \| running \| tab \|/.test(r)));
  await until('stop-job offered', async () => (await dashboard.$$eval('#move-job option', (os) => os.map((o) => o.textContent))).includes('stop-job'));
  await dashboard.selectOption('#move-job', 'stop-job');
  await dashboard.click('#stop');
  await until('stop-job stopped in the tab', async () => (await rows(dashboard, 'jobs')).some((r) => /^stop-job \| failed \(143\) \| tab \|/.test(r)));

  await tab.close();
  await until('the closed tab offline (its last will)', async () => (await rows(dashboard, 'agents')).some((r) => r.startsWith('tab | offline')));
  assert.equal(errors, []);
  assert.is(await server.stop('SIGINT'), 0, server.err);
});

chromium.register(s, 'a keyed fleet: the tab and the dashboard take the key picked in the page; a job moves Node -> tab -> Node (from the CLI, then the page), every move charted, output as uninterrupted', async () => {
  const keyFile = join(work, 'fleet.key');
  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
  const { tcp, ws } = await webSocketBroker('wasmig broker (keyed fleet)');
  await agentProc('ka', ws, ['--key-file', keyFile]);
  const server = wasmigProc(['dashboard', '--port', '0', '--broker', ws], { label: 'wasmig dashboard (keyed fleet)', env: { WASMIG_BROWSER_BUNDLES: work } });
  const url = (await server.waitFor(/wasmig dashboard: (http:\/\/\S+)/, 'out'))[1]!;
  const agentUrl = (await server.waitFor(/browser agent: (http:\/\/\S+)/, 'out'))[1]!;
  const errors: string[] = [];

  // The tab sees a fleet that signs and asks for the key; a file picked in the page (nothing served it).
  const tab = await (await browser()).newPage();
  tab.on('pageerror', (error) => errors.push(`tab: ${error.message}`));
  tab.on('console', (message) => { tabConsole.push(message.text()); });
  tabLog = async () => await tab.textContent('#log') ?? '';
  await tab.goto(agentUrl.replace('name=tab', 'name=ktab'));
  await until('the tab asking for the key', async () => (await tab.textContent('#state') ?? '').startsWith('this fleet signs its messages (agent ka): choose the fleet\'s key file'));
  await tab.setInputFiles('#key-file', keyFile);
  await until('the tab online, signing', async () => {
    const state = await tab.textContent('#state') ?? '';
    if (state.startsWith('could not')) throw new Error(`the tab: ${state}`);
    return /^online at ws:\S+ \(tier native, signing with the fleet key\)$/.test(state);
  });

  const dashboard = await (await browser()).newPage({ viewport: { width: 900, height: 900 } });
  dashboard.on('pageerror', (error) => errors.push(`dashboard: ${error.message}`));
  await dashboard.goto(url);
  await until('the dashboard listing ka and ktab online', async () => {
    const agents = await rows(dashboard, 'agents');
    return ['ka', 'ktab'].every((n) => agents.some((r) => r.startsWith(`${n} | online`)));
  });
  await until('the dashboard\'s controls ready', async () => /^controls: ready/.test(await dashboard.textContent('#control-state') ?? ''));
  // Without the key the page cannot tell a forged state from a real one, and says so.
  await until('the dashboard saying it cannot check', async () => (await dashboard.textContent('#trust') ?? '').startsWith('this fleet signs: what is shown here is unchecked'));
  await dashboard.setInputFiles('#key-file', keyFile);
  await until('the controls signing', async () => /^controls: ready, signing with the fleet key/.test(await dashboard.textContent('#control-state') ?? ''));
  await until('the dashboard checking', async () => (await dashboard.textContent('#trust') ?? '').startsWith('checked with the fleet key'));
  // A rogue client's unsigned retained state is shown as what it is, and offered to no control.
  const rogue = await MqttLink.open({ connection: { url: tcp }, clientId: 'wasmig-rogue', persistent: false, onMessage: () => {} });
  try {
    const forged = { v: 1, job: 'forged', agent: 'ka', instance: 'x', epoch: 99, state: 'running', program: 'evil.wasm', args: [], startedAt: '2026-12-03T00:00:00.000Z', updatedAt: '2026-12-03T00:00:00.000Z' };
    await rogue.publish(topics.jobState('forged'), JSON.stringify(forged), { qos: 1, retain: true });
    await until('the forged state marked', async () => (await rows(dashboard, 'jobs')).some((r) => r.startsWith('forged | unverified: unsigned | ka |')));
    assert.not.ok((await dashboard.$$eval('#move-job option', (os) => os.map((o) => o.textContent))).includes('forged'));
    await rogue.publish(topics.jobState('forged'), '', { qos: 1, retain: true });
  } finally {
    await rogue.close();
  }

  // Started and moved into the tab from the CLI (its move charted from ka's report), back to ka from the page.
  const args = ['lines=900', 'work=200', 'sleep=40', 'mem=2', 'status=3'];
  const keyed = ['--key-file', keyFile, '--broker', tcp];
  const started = await cli(['run', '--on', 'ka', '--detach', '--job', 'kjob', ...keyed, tickerPath, ...args]);
  assert.is(started.status, 0, started.stderr);
  await until('kjob running on ka', async () => (await rows(dashboard, 'jobs')).some((r) => /^kjob \| running \| ka \|/.test(r)));
  const there = await cli(['migrate', 'kjob', '--to', 'ktab', ...keyed]);
  assert.is(there.status, 0, there.stderr);
  await until('kjob running in the tab', async () => (await rows(dashboard, 'jobs')).some((r) => /^kjob \| running \| ktab \|/.test(r)));
  const inTab = await tab.evaluate(() => (globalThis as unknown as { browserAgent: { jobs: Map<string, { state: string }> } }).browserAgent.jobs.get('kjob')?.state);
  assert.is(inTab, 'running');
  await until('the CLI\'s move in the dashboard\'s chart', async () => (await rows(dashboard, 'moves')).some((r) => /^kjob \| ka \| ktab \| [\d.]+ ms \| \d+ KiB \|.*\| elsewhere$/.test(r)));
  // The tab's replay guard keeps its marks in the page's storage (a reload does not open it to replays).
  const stored = await tab.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('wasmig-fs:')));
  assert.equal(stored, ['wasmig-fs:/page-storage/ktab/replay-guard.json']);

  await until('kjob offered to move', async () => (await dashboard.$$eval('#move-job option', (os) => os.map((o) => o.textContent))).includes('kjob'));
  await dashboard.selectOption('#move-job', 'kjob');
  await dashboard.selectOption('#move-to', 'ka');
  await dashboard.click('#move');
  await until('the move back to ka done', async () => {
    const said = await dashboard.textContent('#control-state') ?? '';
    if (/^controls: (job kjob has exited|.*refused|.*signature)/.test(said)) throw new Error(`the move back: ${said}`);
    return /^controls: moved kjob from ktab to ka/.test(said);
  });
  const moves = (await rows(dashboard, 'moves')).map((r) => r.split(' | '));
  assert.equal(moves.map((m) => [m[0], m[1], m[2], m[6]]), [['kjob', 'ka', 'ktab', 'elsewhere'], ['kjob', 'ktab', 'ka', 'this page']]);

  // Identities in chromium itself: the page's code signs (Ed25519) what Node's checks, and checks what Node's signed.
  const authority = FleetAuthority.generate();
  const tabFile = authority.issue('ktab', ['run']);
  const laptop = new DeviceIdentity(authority.issue('laptop', ['start', 'migrate']));
  const state = { v: 1, job: 'kjob', agent: 'ktab', epoch: 9, state: 'running' };
  const inPage = await dashboard.evaluate(async ({ file, state, asked }) => {
    const fleetJs = await import('/browser/fleet.js' as string) as { signWith(f: Uint8Array, m: object): object; verifyWith(f: Uint8Array, m: object, c?: object): string | undefined };
    const bytes = new TextEncoder().encode(file);
    return {
      signed: fleetJs.signWith(bytes, state),
      checked: fleetJs.verifyWith(bytes, asked, { signer: 'laptop', type: 'start' }),
      forged: fleetJs.verifyWith(bytes, { ...asked, job: 'other' }, { signer: 'laptop', type: 'start' }),
    };
  }, { file: JSON.stringify(tabFile), state, asked: laptop.sign({ type: 'start', from: 'laptop', job: 'kjob' }) });
  assert.is(laptop.verify(inPage.signed, { signer: 'ktab', type: 'state' }), undefined, 'Node checks what the page signed');
  assert.is((inPage.signed as { sig: string }).sig, new DeviceIdentity(tabFile).sign(state).sig, 'the same Ed25519 signature');
  assert.is(inPage.checked, undefined, 'the page checks what Node signed');
  assert.match(inPage.forged ?? '', /^bad signature/);

  const output = await cli(['attach', 'kjob', ...keyed]);
  const expected = tickerOutput(args);
  assert.is(output.status, 3, output.stderr);
  assert.is(output.stdout, expected.stdout);
  assert.equal(errors, []);
  await tab.close();
  await dashboard.close();
  assert.is(await server.stop('SIGINT'), 0, server.err);
});

chromium.register(s, 'identities: the tab joins with its own identity, runs a job a laptop starts, and refuses a device revoked by the list picked in the page', async () => {
  const fleetDir = join(work, 'id-fleet');
  assert.is((await cli(['fleet', 'init', '--dir', fleetDir])).status, 0);
  for (const [name, roles] of [['ia', 'run'], ['itab', 'run'], ['laptop', 'start,migrate'], ['stolen', 'start']]) {
    const r = await cli(['fleet', 'add', name, '--roles', roles, '--dir', fleetDir]);
    assert.is(r.status, 0, r.stderr);
  }
  const as = (name: string): Record<string, string> => ({ WASMIG_IDENTITY: join(fleetDir, `${name}.identity`) });
  const { tcp, ws } = await webSocketBroker('wasmig broker (identities)');
  await agentProc('ia', ws, [], as('ia'));
  const server = wasmigProc(['dashboard', '--port', '0', '--broker', ws], { label: 'wasmig dashboard (identities)', env: { WASMIG_BROWSER_BUNDLES: work } });
  const agentUrl = (await server.waitFor(/browser agent: (http:\/\/\S+)/, 'out'))[1]!;
  const errors: string[] = [];
  const tab = await (await browser()).newPage();
  tab.on('pageerror', (error) => errors.push(`tab: ${error.message}`));
  tabLog = async () => await tab.textContent('#log') ?? '';
  // No ?name=: an identity names its device.
  await tab.goto(agentUrl.replace(/[?&]name=tab/, ''));
  await until('the tab asking for its key or identity', async () => (await tab.textContent('#state') ?? '').startsWith('this fleet signs its messages (agent ia)'));
  await tab.setInputFiles('#key-file', join(fleetDir, 'itab.identity'));
  await until('the tab online as itab, signing with its identity', async () => /^online at ws:\S+ \(tier native, signing with the identity of itab\)$/.test(await tab.textContent('#state') ?? ''));

  // Before any list: the device later revoked may start a job here; the laptop may too.
  const quick = ['lines=3', 'status=5'];
  const before = await cli(['run', '--on', 'itab', '--job', 'by-stolen', '--broker', tcp, tickerPath, ...quick], as('stolen'));
  assert.is(before.status, 5, before.stderr);
  const revoked = await cli(['fleet', 'revoke', 'stolen', '--dir', fleetDir]);
  assert.is(revoked.status, 0, revoked.stderr);
  assert.ok(await tab.isVisible('#revoked-file'), 'the page offers the revocation list');
  await tab.setInputFiles('#revoked-file', join(fleetDir, 'revoked.json'));
  await until('the tab taking the list', async () => /revoked\.json taken: 1 device revoked/.test(await tab.textContent('#log') ?? ''));
  const refused = await cli(['run', '--on', 'itab', '--job', 'by-stolen-2', '--broker', tcp, tickerPath, ...quick], as('stolen'));
  assert.is.not(refused.status, 0, 'a revoked device starts nothing in the tab');
  assert.match(refused.stderr, /revoked/);
  assert.not.ok(await tab.evaluate(() => (globalThis as unknown as { browserAgent: { jobs: Map<string, unknown> } }).browserAgent.jobs.has('by-stolen-2')));
  const laptop = await cli(['run', '--on', 'itab', '--job', 'by-laptop', '--broker', tcp, tickerPath, ...quick], as('laptop'));
  assert.is(laptop.status, 5, laptop.stderr);
  assert.is(laptop.stdout, tickerOutput(quick).stdout);
  assert.equal(errors, []);
  await tab.close();
  assert.is(await server.stop('SIGINT'), 0, server.err);
});

s.run();
