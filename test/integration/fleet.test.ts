/**
 * Edge agents end to end: separate processes on loopback (a broker, agents, clients),
 * each started as `wasmig ...` from the sources. A job runs the ticker program, which
 * holds at a gate file until the test opens it, so no step depends on timing.
 *
 * - embedded broker (aedes), fleet key on: a job migrates a -> b -> a mid-run; a target
 *   killed during the transfer; a client killed and re-attached; the broker restarted
 *   mid-job; an agent, and a source mid-transfer, killed (the job lost, followers end
 *   with 69); forged, unsigned and tampered snapshots refused;
 * - mosquitto with a password file: the a -> b -> a round trip (skipped, visibly, where
 *   mosquitto is not installed);
 * - the embedded broker over TLS with a login: a job runs (skipped, visibly, without openssl).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBlobChunk, sha256 } from '../../src/agent/frames.ts';
import type { Reply } from '../../src/agent/messages.ts';
import { newId, parseMessage } from '../../src/agent/messages.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { encodeFinal } from '../../src/agent/package.ts';
import type { BlobCipher } from '../../src/agent/blob-cipher.ts';
import { chunkContext } from '../../src/agent/blob-cipher.ts';
import { FleetKey } from '../../src/agent/signing.ts';
import { topics } from '../../src/agent/topics.ts';
import { agentProc, cli, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';
import { TestRequirement } from '../helpers/test-data.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-fleet-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const keyFile = join(work, 'fleet.key');
writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
const KEY = { WASMIG_KEY_FILE: keyFile };
const DIR = ['--dir', `${ctl}::/ctl`];

/** Ticker arguments for a job that holds at its own gate before line 30. */
function jobArgs(job: string, extra: string[] = []): string[] {
  return ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7', ...extra];
}

function open(job: string): void {
  writeFileSync(join(ctl, job), '');
}

function notes(stderr: string): string {
  return stderr.split('\n').filter((l) => l.startsWith('note ')).join('\n');
}

/** `run --on AGENT` following the job, once it has printed a few lines. */
async function follow(url: string, job: string, args: string[], env: Record<string, string>, agent = 'a'): Promise<Proc> {
  const client = wasmigProc(['run', '--on', agent, '--job', job, '--broker', url, tickerPath, ...args], { env, label: `client ${job}` });
  await client.waitFor(/tick 3\//, 'out');
  return client;
}

async function psJobs(url: string, env: Record<string, string>): Promise<{ id: string; agent: string; state: string; program: string }[]> {
  const r = await cli(['ps', '--json', '--broker', url], env);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; agent: string; state: string; program: string }[];
}

/** The job starts on a, moves to b and back mid-run, and the client gets all of its output. */
async function roundTrip(url: string, env: Record<string, string>, job: string): Promise<void> {
  const args = jobArgs(job);
  const expected = tickerOutput(args);
  const client = await follow(url, job, args, env);
  for (const to of ['b', 'a']) {
    const r = await cli(['migrate', job, '--to', to, '--broker', url], env);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^moved job ${job} from ${to === 'b' ? 'a' : 'b'} to ${to}: downtime [\\d.]+ ms, [\\d.]+ (B|KiB|MiB) sent \\([\\d.]+ (B|KiB|MiB) in the pause.*\\) in [\\d.]+ ms; \\d+ pre-copy rounds?, `));
  }
  const listed = (await psJobs(url, env)).find((j) => j.id === job);
  assert.ok(listed, 'ps lists the job');
  assert.is(listed?.agent, 'a');
  assert.is(listed?.state, 'running');
  assert.is(listed?.program, 'ticker.wasm');
  open(job);
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
  assert.is(notes(client.err), notes(expected.stderr));
  assert.match(client.err, `job ${job} moved to agent b`);
}

// ---------------------------------------------------------------------------------------

const embedded = suite('fleet on the embedded broker');
let broker: BrokerProc;
let a: Proc;
let b: Proc;

embedded.before(async () => {
  broker = await embeddedBroker();
  [a, b] = await Promise.all([agentProc('a', broker.url, DIR, KEY), agentProc('b', broker.url, DIR, KEY)]);
});

embedded.after(async () => {
  await stopAll();
});

embedded('a job migrates a -> b -> a mid-run and its output arrives complete', async () => {
  await roundTrip(broker.url, KEY, 'trip');
  assert.match(a.err, /job trip moved to b \(epoch 2[,)]/);
  assert.match(b.err, /job trip moved to a \(epoch 3[,)]/);
});

embedded('the target dies during the transfer: the job goes on at the source', async () => {
  const job = 'fault';
  const args = jobArgs(job, ['mem=2']);
  const expected = tickerOutput(args);
  const c = await agentProc('c', broker.url, DIR, { ...KEY, WASMIG_FAULT: 'die-on-chunk:2' });
  const client = await follow(broker.url, job, args, KEY);
  const r = await cli(['migrate', job, '--to', 'c', '--broker', broker.url], KEY);
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, /agent c went offline during the handoff; the job goes on at a/);
  assert.is(await c.exited, 137);
  const listed = (await psJobs(broker.url, KEY)).find((j) => j.id === job);
  assert.is(listed?.agent, 'a');
  assert.is(listed?.state, 'running');
  open(job);
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
});

embedded('a client killed and re-attached loses no output', async () => {
  const job = 'reattach';
  const args = jobArgs(job);
  const expected = tickerOutput(args);
  const first = await follow(broker.url, job, args, KEY);
  assert.is(await first.stop('SIGKILL'), 137);
  assert.ok(expected.stdout.startsWith(first.out), 'what the first client printed is a prefix of the output');
  const second = wasmigProc(['attach', job, '--broker', broker.url], { env: KEY, label: 'attach' });
  await second.waitFor(/waiting for \/ctl\/reattach/, 'out');
  open(job);
  assert.is(await second.exited, 7, second.err);
  assert.is(second.out, expected.stdout);
  assert.is(notes(second.err), notes(expected.stderr));
});

embedded('the broker restarts mid-job: agents reconnect, the job goes on', async () => {
  const job = 'restart';
  const args = jobArgs(job);
  const expected = tickerOutput(args);
  const client = await follow(broker.url, job, args, KEY);
  await broker.proc.stop();
  await Promise.all([a.waitFor(/lost the broker/, 'err'), b.waitFor(/lost the broker/, 'err')]);
  broker = await embeddedBroker(broker.port);
  await Promise.all([a.waitFor(/reconnected to the broker; \d+ job/, 'err'), b.waitFor(/reconnected to the broker/, 'err')]);
  // The restarted broker forgot every retained message; the agents told it again.
  const listed = (await psJobs(broker.url, KEY)).find((j) => j.id === job);
  assert.is(listed?.state, 'running');
  open(job);
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
});

embedded('an agent killed mid-job: ps says the job is lost, its followers end with 69', async () => {
  // Before: ps said "k (offline)  running" and attach waited for k forever.
  const job = 'orphan';
  const k = await agentProc('k', broker.url, DIR, KEY);
  const client = wasmigProc(['run', '--on', 'k', '--job', job, '--lost-after', '2', '--broker', broker.url, tickerPath, ...jobArgs(job)], { env: KEY, label: 'client orphan' });
  await client.waitFor(/tick 3\//, 'out');
  const attach = wasmigProc(['attach', job, '--lost-after', '2', '--broker', broker.url], { env: KEY, label: 'attach orphan' });
  await attach.waitFor(/tick 3\//, 'out');
  assert.is(await k.stop('SIGKILL'), 137);
  const r = await cli(['ps', '--broker', broker.url], KEY);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${job} +k +lost \\(agent k is offline\\) +ticker\\.wasm`, 'm'));
  const listed = (await psJobs(broker.url, KEY)).find((j) => j.id === job) as { lost?: string } | undefined;
  assert.is(listed?.lost, 'agent k is offline');
  for (const follower of [client, attach]) {
    assert.is(await follower.exited, 69, follower.err);
    assert.match(follower.err, /agent k is offline; waiting up to 2 s/);
    assert.match(follower.err, new RegExp(`wasmig: job ${job} is lost: agent k is offline, and no other agent took it over within 2 s`));
  }
});

embedded('the source killed mid-transfer: the job is lost at once for ps, its follower ends with 69', async () => {
  // Before: ps said "s (offline)  migrating to t" until s came back, and attach waited.
  const job = 'midway';
  const [src, dst] = await Promise.all([agentProc('s', broker.url, DIR, KEY), agentProc('t', broker.url, DIR, KEY)]);
  const client = wasmigProc(['run', '--on', 's', '--job', job, '--lost-after', '2', '--broker', broker.url, tickerPath, ...jobArgs(job, ['mem=64'])], { env: KEY, label: 'client midway' });
  await client.waitFor(/tick 3\//, 'out', 60_000);
  const moving = wasmigProc(['migrate', job, '--to', 't', '--broker', broker.url], { env: KEY, label: 'migrate midway' });
  await dst.waitFor(new RegExp(`receiving job ${job} from s`), 'err', 60_000);
  assert.is(await src.stop('SIGKILL'), 137);
  assert.is(await moving.exited, 1, moving.out);
  const listed = (await psJobs(broker.url, KEY)).find((j) => j.id === job) as { agent: string; lost?: string } | undefined;
  assert.is(listed?.agent, 's', 'the target never ran it');
  assert.is(listed?.lost, 'agent s is offline');
  assert.is(await client.exited, 69, client.err);
  assert.match(client.err, new RegExp(`wasmig: job ${job} is lost: agent s is offline`));
});

embedded('forged, unsigned and tampered snapshots are refused', async () => {
  const replies: Reply[] = [];
  const replyTo = topics.clientInbox('forger');
  const link = await MqttLink.open({
    connection: { url: broker.url }, clientId: 'wasmig-forger', persistent: false,
    onMessage: (_t, payload) => { replies.push(parseMessage(payload) as Reply); },
  });
  await link.subscribe([replyTo]);
  const right = FleetKey.fromFile(keyFile);
  const wrong = new FleetKey(randomBytes(32));
  const moduleSha = sha256(readFileSync(tickerPath));
  const answer = async (id: string, stage?: string): Promise<Reply> => {
    for (let i = 0; i < 200; i++) {
      const r = replies.find((x) => x.re === id && (stage === undefined || x.stage === stage || !x.ok));
      if (r) return r;
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
    throw new Error(`no reply to ${id}`);
  };
  const post = async (key: FleetKey | undefined, body: Record<string, unknown>): Promise<string> => {
    const id = newId();
    const full = { v: 1, id, ts: Date.now(), from: 'forger', recipient: topics.agentInbox('b'), replyTo, ...body };
    await link.publish(topics.agentInbox('b'), JSON.stringify(key ? key.sign(full) : full));
    return id;
  };
  const prepare = (key: FleetKey | undefined, job: string): Promise<string> => post(key, {
    type: 'prepare', job, epoch: 9, dirs: [],
    spec: { program: 'ticker.wasm', module: { sha256: moduleSha, size: 36554 }, args: ['ticker.wasm'], env: {}, startedAt: new Date().toISOString() },
  });
  /** The last message of a handoff with its blob (`sent` may differ from what the signed manifest says). */
  /** `seal`: the chunk sealed for b with the fleet key, as agents send them (blob-cipher.ts). */
  const final = async (job: string, pkg: Uint8Array, sent: Uint8Array = pkg, seal = true): Promise<string> => {
    const transfer = newId();
    const id = await post(right, { type: 'final', job, epoch: 9, digests: ['0'], transfer, sha256: sha256(pkg), size: pkg.length, chunks: 1 });
    const data = seal ? (right.cipher as BlobCipher).seal(chunkContext(topics.agentData('b'), transfer, 0), sent) : sent;
    await link.publish(topics.agentData('b'), encodeBlobChunk({ transfer, index: 0, count: 1, data }));
    return id;
  };
  const pkg = encodeFinal({ snapshot: randomBytes(4096), deltas: [], log: { floor: 0, entries: [] } });

  let r = await answer(await prepare(wrong, 'forged-1'));
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /bad signature/);
  await b.waitFor(/refused prepare request \w+ from forger: bad signature/, 'err');

  r = await answer(await prepare(undefined, 'forged-2'));
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /unsigned message/);

  // b has the module: a job `prepare` is the start of a handoff anybody with the key may open.
  await cli(['run', '--on', 'b', '--broker', broker.url, tickerPath, 'lines=1'], KEY);
  r = await answer(await prepare(right, 'forged-3'), 'prepared');
  assert.ok(r.ok, r.message);
  const tampered = Uint8Array.from(pkg);
  tampered[100] ^= 0xff;
  r = await answer(await final('forged-3', pkg, tampered));
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /fails its sha256 check/);
  await b.waitFor(/refused job forged-3 from forger \(epoch 9\): the snapshot does not restore: the final handoff package fails its sha256 check/, 'err');

  // A chunk in clear (not sealed with the fleet key) does not even open.
  r = await answer(await prepare(right, 'forged-5'), 'prepared');
  assert.ok(r.ok, r.message);
  r = await answer(await final('forged-5', pkg, pkg, false));
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /does not decrypt/);

  r = await answer(await prepare(right, 'forged-4'), 'prepared');
  assert.ok(r.ok, r.message);
  // A final that decodes but does not restore: the final, which commits, is refused, and the copy dropped.
  r = await answer(await final('forged-4', pkg));
  assert.not.ok(r.ok);
  assert.is(r.code, 'restore-failed');
  assert.match(r.message ?? '', /does not restore/);
  await b.waitFor(/job forged-4: the snapshot does not restore: .*; refused the commit from forger/, 'err');
  r = await answer(await post(right, { type: 'commit', job: 'forged-4', epoch: 9 }));
  assert.not.ok(r.ok, 'a commit asked again finds no copy');

  await link.close();
  const ids = (await psJobs(broker.url, KEY)).map((j) => j.id);
  assert.not.ok(ids.some((id) => id.startsWith('forged')), 'no forged job runs');

  const unsigned = await cli(['run', '--on', 'a', '--broker', broker.url, tickerPath, 'lines=1']);
  assert.is(unsigned.status, 1);
  assert.match(unsigned.stderr, /agent a did not start the job: a refused the start request: unsigned message/);
});

embedded('an agent stops on SIGTERM by itself when its broker is gone', async () => {
  // Its offline status cannot be delivered; before the fix the agent waited for the broker
  // forever (npm run demo hung in its clean-up), and the helper's SIGKILL ended it after 5 s.
  const broker = await embeddedBroker();
  const agent = await agentProc('lonely', broker.url, [], KEY);
  assert.is(await broker.proc.stop(), 0);
  assert.is(await agent.stop('SIGTERM'), 0, agent.err.slice(-2000));
  assert.match(agent.err, /stopping \(SIGTERM\)/);
});

// ---------------------------------------------------------------------------------------

const mosquitto = suite('fleet on mosquitto');
const mosquittoInstalled = new TestRequirement('mosquitto', 'apt-get install -y mosquitto', () => mosquittoPath() !== undefined);

mosquitto.after(async () => {
  await stopAll();
});

mosquittoInstalled.register(mosquitto, 'a job migrates a -> b -> a mid-run through mosquitto, with a login', async () => {
  const passwords = join(work, 'mosquitto.passwd');
  const made = spawnSync('mosquitto_passwd', ['-b', '-c', passwords, 'fleet', 's3cret'], { encoding: 'utf8' });
  const login = made.status === 0;
  const m = await mosquittoBroker(work, login ? ['allow_anonymous false', `password_file ${passwords}`] : []);
  const env: Record<string, string> = login ? { WASMIG_USERNAME: 'fleet', WASMIG_PASSWORD: 's3cret' } : {};
  if (login) {
    const refused = await cli(['ps', '--broker', m.url, '--username', 'fleet', '--password', 'wrong']);
    assert.is(refused.status, 1);
    assert.match(refused.stderr, /broker refused the connection: (bad user name or password|not authorized)/);
  }
  const agents = await Promise.all([agentProc('a', m.url, DIR, env), agentProc('b', m.url, DIR, env)]);
  assert.match(agents[0].err, /MQTT 5/);
  await roundTrip(m.url, env, 'mtrip');
});

// ---------------------------------------------------------------------------------------

const tls = suite('fleet over TLS');

tls.after(async () => {
  await stopAll();
});

const cert = join(work, 'cert.pem');
const key = join(work, 'key.pem');
/** The certificate is made when the test is registered, so that a machine without openssl counts the test as skipped. */
const testCertificate = new TestRequirement('a test certificate', 'openssl req -x509 failed or openssl is not installed', () =>
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' }).status === 0);

testCertificate.register(tls, 'agents and clients reach a TLS broker with a login and a CA file', async () => {
  const t = await embeddedBroker(undefined, ['--tls-cert', cert, '--tls-key', key, '--username', 'fleet', '--password', 'pw']);
  assert.match(t.url, /^mqtts:/);
  const env = { WASMIG_CA: cert, WASMIG_USERNAME: 'fleet', WASMIG_PASSWORD: 'pw' };
  await agentProc('t', t.url, DIR, env);
  const r = await cli(['run', '--on', 't', '--broker', t.url, tickerPath, 'lines=3', 'work=10', 'status=3'], env);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stdout, tickerOutput(['lines=3', 'work=10', 'status=3']).stdout);
  const untrusted = await cli(['ps', '--broker', t.url], { WASMIG_USERNAME: 'fleet', WASMIG_PASSWORD: 'pw' });
  assert.is(untrusted.status, 1);
  assert.match(untrusted.stderr, /cannot connect to broker mqtts:\/\/127\.0\.0\.1:\d+: .*(self.signed|certificate)/i);
});

embedded.run();
mosquitto.run();
tls.run();

process.on('exit', () => rmSync(work, { recursive: true, force: true }));
