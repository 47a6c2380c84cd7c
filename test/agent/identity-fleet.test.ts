/**
 * A fleet with device identities (issue 16, item 4): two agents and clients each with
 * their own Ed25519 key and certificate. A job starts, migrates and is followed to its
 * end; a device without the role for a request, and one certified by another
 * authority, are refused with the reason; an agent cannot use another device's identity.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, DeviceIdentity, FleetAuthority, FleetClient, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { MigrationError, UsageError } from '../../src/errors/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-identity-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const ticker = readFileSync(tickerPath);
const authority = FleetAuthority.generate();
const id = (name: string, roles: Parameters<FleetAuthority['issue']>[1]): DeviceIdentity => new DeviceIdentity(authority.issue(name, roles));

const s = suite('a fleet with device identities');
let broker: EmbeddedBroker;
const agents: Agent[] = [];
const logs: string[] = [];
const clients: FleetClient[] = [];

async function client(identity: DeviceIdentity): Promise<FleetClient> {
  const c = await FleetClient.connect({ connection: { url: broker.url }, key: identity, log: (l) => { if (process.env.DEBUG_LOG) console.log('client', l); } });
  clients.push(c);
  return c;
}

s.before(async () => {
  broker = await startBroker({ port: 0 });
  for (const name of ['a', 'b']) {
    agents.push(await Agent.start({ name, connection: { url: broker.url }, key: id(name, ['run']), stateDir: join(work, name), dirs: [{ host: ctl, guest: '/ctl' }], heartbeatMs: 500, log: (l) => { logs.push(l); if (process.env.DEBUG_LOG) console.log(new Date().toISOString().slice(17), l); } }));
  }
});

s.after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(agents.map((a) => a.stop()));
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

s('a job starts, moves a -> b and is followed to its end, each message signed by its own device', async () => {
  const ops = await client(id('ops', ['start', 'migrate']));
  assert.match(ops.peer.id, /^ops~[0-9a-f]{8}$/);
  const args = ['lines=20', 'work=200', 'gate=/ctl/g1', 'at=10', 'status=3'];
  await ops.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'idjob' });
  let stdout = '';
  let firstOutput!: () => void;
  const flowing = new Promise<void>((resolve) => { firstOutput = resolve; });
  const following = ops.follow('idjob', { onOutput: (c) => { if (c.stream === 1) stdout += Buffer.from(c.data).toString(); firstOutput(); } });
  following.catch(() => {});
  await flowing;
  const moved = await ops.migrate('idjob', 'b');
  assert.is(moved.to, 'b');
  writeFileSync(join(ctl, 'g1'), '');
  const end = await following;
  assert.is(end.agent, 'b');
  assert.is(end.status, 3);
  assert.is(stdout, tickerOutput(args).stdout);
  const listed = (await ops.list()).jobs.find((j) => j.job === 'idjob');
  assert.is(listed?.agent, 'b');
  assert.is(listed?.unverified, undefined);
});

s('roles are enforced, foreign certificates refused, each with the reason in the log', async () => {
  const starter = await client(id('starter', ['start']));
  const args = ['lines=20', 'work=200', 'gate=/ctl/g2', 'at=5'];
  await starter.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'roles' });
  try {
    await starter.migrate('roles', 'b', { timeoutMs: 20_000 });
    assert.unreachable('a start-only device moved a job');
  } catch (error) {
    assert.instance(error, MigrationError);
    assert.match((error as Error).message, /a refused the migrate request: starter may not send migrate requests \(roles: start; needs migrate\)/);
  }
  const foreign = await FleetClient.connect({ connection: { url: broker.url }, key: new DeviceIdentity(FleetAuthority.generate().issue('ops', ['admin'])) });
  clients.push(foreign);
  // It does not even believe b is online (b's status is signed by a device its authority never certified)...
  try {
    await foreign.start({ agent: 'b', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=1'], job: 'foreign' });
    assert.unreachable('a foreign device saw b online');
  } catch (error) {
    assert.match((error as Error).message, /no agent named b has announced itself/);
  }
  // ...and its start, sent all the same, is refused; b's answer is not believed either.
  foreign.peer.request('wasmig/v1/agents/b/inbox', { type: 'start', job: 'foreign', spec: { program: 'ticker.wasm', module: { sha256: '0'.repeat(64), size: 64 }, args: ['ticker.wasm'], env: {}, startedAt: new Date().toISOString() } }, { timeoutMs: 5000, who: 'agent b' }).catch(() => {});
  for (let i = 0; i < 400 && !logs.some((l) => /agent b: refused start request/.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(logs.some((l) => /agent b: refused start request \w+ from ops~\w+: the certificate of ops is not signed by this fleet's authority/.test(l)), logs.join('\n'));
  assert.not.ok(agents[1].jobs.has('foreign'));
  writeFileSync(join(ctl, 'g2'), '');
  assert.is((await starter.follow('roles', { onOutput: () => {}, onNotice: (n) => { if (process.env.DEBUG_LOG) console.log('notice', n); } })).state, 'exited');
});

s('the pause\'s final and its answer are authenticated by the handoff\'s session; forged, replayed and misused session messages are refused', async () => {
  // Every control message to an inbox, as the broker passes it on.
  const seen: { topic: string; message: Record<string, unknown> }[] = [];
  const sniffer = await MqttLink.open({
    connection: { url: broker.url }, clientId: 'wasmig-session-sniffer', persistent: false,
    onMessage: (topic, payload) => { try { seen.push({ topic, message: JSON.parse(Buffer.from(payload).toString()) as Record<string, unknown> }); } catch { /* not JSON */ } },
  });
  try {
    await sniffer.subscribe(['wasmig/v1/agents/+/inbox']);
    const ops = await client(id('ops', ['start', 'migrate']));
    const args = ['lines=20', 'work=200', 'gate=/ctl/g3', 'at=10'];
    await ops.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'sessjob' });
    let firstOutput!: () => void;
    const flowing = new Promise<void>((resolve) => { firstOutput = resolve; });
    let stdout = '';
    const following = ops.follow('sessjob', { onOutput: (c) => { if (c.stream === 1) stdout += Buffer.from(c.data).toString(); firstOutput(); } });
    following.catch(() => {});
    await flowing;
    assert.is((await ops.migrate('sessjob', 'b')).to, 'b');
    const of = (type: string): Record<string, unknown>[] => seen.filter((x) => x.message.type === type && x.message.job === 'sessjob').map((x) => x.message);
    const [prepare] = of('prepare');
    const [final] = of('final');
    assert.type(prepare?.handoffSession, 'string', 'the signed prepare names the session');
    assert.type(prepare?.sig, 'string');
    assert.is(final?.session, prepare.handoffSession, 'the final is authenticated by the session');
    assert.match(String(final.mac), /^[0-9a-f]{64}$/);
    assert.is(final.sig, undefined, 'and carries no signature');
    assert.is(final.cert, undefined);
    const answer = seen.find((x) => x.message.type === 'reply' && x.message.re === final.id)?.message;
    assert.is(answer?.session, final.session, 'so is its answer');
    assert.is(answer?.sig, undefined);
    // The rounds before the pause are still signed; their answers, from inside the session, carry its MAC.
    const rounds = of('round');
    assert.ok(rounds.length > 0 && rounds.every((r) => typeof r.sig === 'string' && r.session === undefined));
    for (const round of rounds) {
      const done = seen.find((x) => x.message.type === 'reply' && x.message.re === round.id && x.message.stage === 'done')?.message;
      assert.is(done?.session, final.session, 'a round\'s answer is authenticated by the session');
      assert.is(done?.sig, undefined);
    }

    const refusedFinal = (): string[] => logs.filter((l) => /agent b: refused final request/.test(l));
    const before = refusedFinal().length;
    const waitRefusals = async (n: number): Promise<void> => {
      for (let i = 0; i < 400 && refusedFinal().length < before + n; i++) await new Promise((r) => setTimeout(r, 25));
    };
    // Replayed once the move is over: the session is closed at b (a fresh id, so the replay guard is not what stops it).
    const replay = { ...final, id: 'f'.repeat(32) };
    await sniffer.publish('wasmig/v1/agents/b/inbox', JSON.stringify(replay), { qos: 1 });
    await waitRefusals(1);
    assert.match(refusedFinal().at(-1) ?? '', /bad session MAC|no handoff session open here/);
    // A made-up session.
    await sniffer.publish('wasmig/v1/agents/b/inbox', JSON.stringify({ ...final, id: 'e'.repeat(32), session: 'A'.repeat(43), ts: Date.now() }), { qos: 1 });
    await waitRefusals(2);
    assert.match(refusedFinal().at(-1) ?? '', /session-authenticated with no handoff session open here/);
    assert.is(agents[1].jobs.get('sessjob')?.state, 'running', 'the job goes on at b');
    writeFileSync(join(ctl, 'g3'), '');
    const end = await following;
    assert.is(end.agent, 'b');
    assert.is(stdout, tickerOutput(args).stdout, 'nothing the forgeries did reached the job');
  } finally {
    await sniffer.close();
  }
});

s('an agent refuses to start with another device\'s identity', async () => {
  try {
    await Agent.start({ name: 'c', connection: { url: broker.url }, key: id('a', ['run']), log: () => {} });
    assert.unreachable('started');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.match((error as Error).message, /--identity is a's: agent c needs its own \(wasmig fleet add c --roles run\)/);
  }
});

s.run();
