/**
 * MQTT over WebSocket, what a browser tab will speak: agents and clients with
 * `--broker ws://...`, beside others over TCP on the same broker.
 *
 * - `wasmig broker --ws-port N`: agent a over WebSocket, agent b over TCP, the client over
 *   WebSocket; a job starts on a, migrates to b and back mid-run, and its output is the
 *   uninterrupted run's; a plain HTTP request to the WebSocket port gets a one-line answer.
 * - Debian's mosquitto with a `protocol websockets` listener: the same round trip
 *   (skipped, visibly, where mosquitto is missing or was built without websockets).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentProc, cli, freePort, mosquittoBroker, mosquittoPath, stopAll, wasmigProc, webSocketBroker } from '../helpers/fleet.ts';
import type { Proc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';
import { TestRequirement } from '../helpers/test-data.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-ws-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const DIR = ['--dir', `${ctl}::/ctl`];

/** A job that holds at its own gate before line 30, so the migrations happen mid-run. */
function jobArgs(job: string): string[] {
  return ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7'];
}

/**
 * Runs a job on a through `clientUrl`, moves it a -> b -> a, opens its gate and checks
 * that the follower got the uninterrupted run's output.
 */
async function roundTrip(clientUrl: string, job: string): Promise<void> {
  const args = jobArgs(job);
  const expected = tickerOutput(args);
  const client = wasmigProc(['run', '--on', 'a', '--job', job, '--broker', clientUrl, tickerPath, ...args], { label: `client ${job}` });
  await client.waitFor(/tick 3\//, 'out');
  for (const to of ['b', 'a']) {
    const r = await cli(['migrate', job, '--to', to, '--broker', clientUrl]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^moved job ${job} from ${to === 'b' ? 'a' : 'b'} to ${to}`));
  }
  const ps = await cli(['ps', '--json', '--broker', clientUrl]);
  assert.is(ps.status, 0, ps.stderr);
  const listed = (JSON.parse(ps.stdout) as { id: string; agent: string }[]).find((j) => j.id === job);
  assert.is(listed?.agent, 'a');
  writeFileSync(join(ctl, job), '');
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
  assert.match(client.err, `job ${job} moved to agent b`);
}

const embedded = suite('MQTT over WebSocket on the embedded broker');
embedded.after(stopAll);

embedded('an agent and a client over ws://, an agent over TCP: a job runs and migrates a -> b -> a', async () => {
  const { proc: broker, tcp, ws } = await webSocketBroker();
  assert.match(ws, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const agents: Proc[] = await Promise.all([agentProc('a', ws, DIR), agentProc('b', tcp, DIR)]);
  await roundTrip(ws, 'ws-job');
  // Not a WebSocket upgrade: a one-line answer, not a hang or a dropped connection.
  const plain = await fetch(ws.replace(/^ws:/, 'http:') + '/');
  assert.is(plain.status, 426);
  assert.match(await plain.text(), /MQTT over WebSocket/);
  await Promise.all(agents.map((agent) => agent.stop()));
  assert.is(await broker.stop('SIGINT'), 0, broker.err);
});

embedded('--ws-port out of range is a one-line usage error', async () => {
  const r = await cli(['broker', '--ws-port', '70000']);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /--ws-port 70000: ports go up to 65535/);
});

embedded('a --ws-port another process holds: one line, exit 1, no stack', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const busy = (holder.address() as AddressInfo).port;
  try {
    const r = await cli(['broker', '--port', '0', '--ws-port', String(busy)]);
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr, `wasmig: cannot listen on 127.0.0.1:${busy}: the port is in use (another broker?)\n`);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});

/**
 * Whether this mosquitto serves websockets. Debian builds it with libwebsockets; 2.0.11
 * starts a websockets listener only beside a plain one (eclipse-mosquitto/mosquitto#2284).
 */
function mosquittoHasWebsockets(): boolean {
  const exe = mosquittoPath();
  if (exe === undefined) return false;
  const conf = join(work, 'probe.conf');
  // Ports picked at random (the check is synchronous): a clash reads as "no websockets",
  // a visible skip, never a pass.
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, `listener ${port + 1}`, 'protocol websockets', 'allow_anonymous true',
    ...(process.getuid?.() === 0 ? ['user root'] : []), ''].join('\n'));
  const r = spawnSync('timeout', ['2', exe, '-c', conf], { encoding: 'utf8' });
  return /running/.test(r.stderr) && !/Websockets support|Unable to/.test(r.stderr);
}

const mosquitto = suite('MQTT over WebSocket on mosquitto');
const websockets = new TestRequirement('mosquitto with websockets', 'apt-get install -y mosquitto (built with libwebsockets)', mosquittoHasWebsockets);
mosquitto.after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

websockets.register(mosquitto, 'mosquitto `listener N` + `protocol websockets`: an agent and a client over ws://, a job migrates a -> b -> a', async () => {
  let wsPort = 0;
  // mosquitto 2.0's websockets listener binds every interface whatever its address says.
  const m = await mosquittoBroker(work, async () => {
    wsPort = await freePort();
    return [`listener ${wsPort}`, 'protocol websockets', 'allow_anonymous true'];
  });
  const ws = `ws://127.0.0.1:${wsPort}`;
  await Promise.all([agentProc('a', ws, DIR), agentProc('b', m.url, DIR)]);
  await roundTrip(ws, 'mosq-ws-job');
});

embedded.run();
mosquitto.run();
