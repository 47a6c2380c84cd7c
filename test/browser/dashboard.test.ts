/**
 * `wasmig dashboard` in chromium: a broker with a WebSocket port, agent a over WebSocket
 * and agent b over TCP, a job on a. The page lists both agents online with their load
 * charted, and the job on a; after `wasmig migrate` it shows the job on b without a
 * reload, and after the job ends its final state. A screenshot goes to
 * test/output/dashboard.png. Skipped, saying so, where chromium is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../helpers/cli.ts';
import { agentProc, cli, stopAll, wasmigProc, webSocketBroker } from '../helpers/fleet.ts';
import { tickerPath } from '../helpers/ticker.ts';
import { TestRequirement } from '../helpers/test-data.ts';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const chromium = new TestRequirement('chromium', `${CHROMIUM}; apt-get install -y --no-install-recommends chromium`, () => existsSync(CHROMIUM));
const SCREENSHOT = resolve(repoRoot, 'test/output/dashboard.png');

const work = mkdtempSync(join(tmpdir(), 'wasmig-dashboard-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);

const dashboard = suite('wasmig dashboard in chromium');
let chrome: Browser | undefined;

dashboard.after(async () => {
  await chrome?.close();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** The text of a table's rows, one string per row. */
function rows(page: Page, table: string): Promise<string[]> {
  return page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent).join(' | ')));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; !(await check()); waited += 200) {
    if (waited > timeoutMs) throw new Error(`dashboard: ${what} not shown within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

chromium.register(dashboard, 'lists agents and jobs live over MQTT-over-WebSocket, charts their load, and follows a migration', async () => {
  const { tcp, ws } = await webSocketBroker();
  const dir = ['--dir', `${ctl}::/ctl`];
  await Promise.all([agentProc('a', ws, dir), agentProc('b', tcp, dir)]);
  const started = await cli(['run', '--on', 'a', '--detach', '--job', 'dash-job', '--broker', tcp, tickerPath, 'lines=40', 'work=3000', 'gate=/ctl/dash-job', 'at=30', 'status=7']);
  assert.is(started.status, 0, started.stderr);

  const server = wasmigProc(['dashboard', '--port', '0', '--broker', ws], { label: 'wasmig dashboard' });
  const url = (await server.waitFor(/wasmig dashboard: (http:\/\/\S+)/, 'out'))[1]!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const { chromium: launcher } = await import('playwright-core');
  chrome = await launcher.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const page = await chrome.newPage({ viewport: { width: 900, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);

  await until('both agents online and the job on a', async () => {
    const agents = await rows(page, 'agents');
    const jobs = await rows(page, 'jobs');
    return agents.some((r) => /^a \| online/.test(r)) && agents.some((r) => /^b \| online/.test(r)) && jobs.some((r) => /^dash-job \| running \| a \| ticker\.wasm/.test(r));
  });
  // Heartbeats every second: two points per agent make a line in the chart.
  await until('two heartbeats of each agent', () => page.evaluate(() => {
    const view = (globalThis as unknown as { fleetView: { agents: Map<string, { cpu: unknown[] }> } }).fleetView;
    return ['a', 'b'].every((n) => (view.agents.get(n)?.cpu.length ?? 0) >= 2);
  }));
  assert.ok(await page.$('#chart canvas'), 'uPlot drew its canvas');
  assert.match(await page.textContent('#connection') ?? '', /^connected to ws:\/\/127\.0\.0\.1:\d+$/);

  const moved = await cli(['migrate', 'dash-job', '--to', 'b', '--broker', tcp]);
  assert.is(moved.status, 0, moved.stderr);
  await until('the job on b', async () => (await rows(page, 'jobs')).some((r) => /^dash-job \| running \| b \|/.test(r)));

  mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const png = readFileSync(SCREENSHOT);
  assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.ok(png.length > 10_000, `${png.length} bytes`);

  writeFileSync(join(ctl, 'dash-job'), '');
  await until('the job exited with 7', async () => (await rows(page, 'jobs')).some((r) => /^dash-job \| exited \(7\) \| b \|/.test(r)));
  assert.equal(errors, []);
  assert.is(await server.stop('SIGINT'), 0, server.err);
});

dashboard('--broker must be a WebSocket URL, and off loopback needs --insecure: one-line errors', async () => {
  const tcp = await cli(['dashboard', '--broker', 'mqtt://127.0.0.1:1883']);
  assert.is(tcp.status, 2, tcp.stderr);
  assert.match(tcp.stderr, /^wasmig: --broker mqtt:\/\/127\.0\.0\.1:1883: the dashboard's page reaches the broker over WebSocket/);
  const open = await cli(['dashboard', '--broker', 'ws://127.0.0.1:9001', '--host', '0.0.0.0']);
  assert.is(open.status, 2, open.stderr);
  assert.match(open.stderr, /--host 0\.0\.0\.0: the dashboard serves loopback only/);
});

dashboard.run();
