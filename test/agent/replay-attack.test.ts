/**
 * Issue 16's replay attacks, by a rogue MQTT client that sees the broker's traffic: a
 * captured, validly signed `start` is published into another agent's inbox, and into the
 * same agent's inbox after it restarted. Both are refused, with the reason in the
 * agent's log, and no job starts. Before recipient binding and the persistent replay
 * guard, both started the job.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, FleetKey, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-replay-'));
const ticker = readFileSync(tickerPath);
const key = new FleetKey(randomBytes(32));

/** Log lines of all agents, and waits for one. */
class Logs {
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  };

  waitFor(re: RegExp, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line ${re} within ${timeoutMs} ms:\n${this.lines.join('\n')}`)), timeoutMs);
      const look = (): void => {
        const found = this.lines.find((l) => re.test(l));
        if (found !== undefined) { clearTimeout(timer); resolve(found); } else this.#waiters.push(look);
      };
      look();
    });
  }
}

const s = suite('replayed signed requests');
let broker: EmbeddedBroker;
const logs = new Logs();
const agents: Agent[] = [];

async function agent(name: string): Promise<Agent> {
  const a = await Agent.start({ name, connection: { url: broker.url }, key, stateDir: join(work, name), heartbeatMs: 500, log: logs.log });
  agents.push(a);
  return a;
}

s.before(async () => {
  broker = await startBroker({ port: 0 });
});

s.after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

s('a captured start is refused in another inbox, and by its own agent after a restart', async () => {
  let a = await agent('a');
  const b = await agent('b');
  // The rogue client: no key, sees every inbox.
  const captured: Buffer[] = [];
  const rogue = await MqttLink.open({
    connection: { url: broker.url }, clientId: 'wasmig-rogue', persistent: false,
    onMessage: (_topic, payload) => {
      try {
        if ((JSON.parse(payload.toString()) as { type?: string }).type === 'start') captured.push(payload);
      } catch { /* blob chunks */ }
    },
  });
  await rogue.subscribe([topics.agentInbox('a')]);
  const client = await FleetClient.connect({ connection: { url: broker.url }, key });
  try {
    // b holds the module too: the replayed start would run there as it is.
    await client.start({ agent: 'b', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=1'], job: 'warm' });
    const started = await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=1'], job: 'victim' });
    assert.is(started.agent, 'a');
    // Both jobs end before anything stops (an agent stopped under a starting job is another test's matter).
    for (const job of ['warm', 'victim']) assert.is((await client.follow(job, { onOutput: () => {} })).state, 'exited');
    assert.ok(captured.length >= 1, 'the rogue saw the signed start');
    const start = captured[captured.length - 1];

    // Into b's inbox.
    await rogue.publish(topics.agentInbox('b'), start, { qos: 1 });
    const refusedByB = await logs.waitFor(/agent b: refused start request \w+ from c\w+: the message is addressed to wasmig\/v1\/agents\/a\/inbox/);
    assert.match(refusedByB, /replayed from another inbox/);
    assert.not.ok(b.jobs.has('victim'), 'no job on b');

    // To a again, after its restart (same state dir).
    await a.stop();
    agents.splice(agents.indexOf(a), 1);
    a = await agent('a');
    await rogue.publish(topics.agentInbox('a'), start, { qos: 1 });
    await logs.waitFor(/agent a: refused start request \w+ from c\w+: replayed message \(not newer than the last one accepted from c\w+ before this restart\)/);
    assert.not.ok(a.jobs.has('victim'), 'the restarted a did not start it again');

    // The fleet still works: a fresh start on the restarted agent is taken.
    const again = await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=1'], job: 'fresh' });
    assert.is(again.agent, 'a');
    assert.is((await client.follow('fresh', { onOutput: () => {} })).state, 'exited');
  } finally {
    await client.close();
    await rogue.close();
  }
});

s('a captured handoff replayed to its target, in the same run or after a restart, moves nothing; its steps after prepare write no replay mark', async () => {
  const ctl = join(work, 'ctl');
  mkdirSync(ctl, { recursive: true });
  const dirs = [{ host: ctl, guest: '/ctl' }];
  const start = async (name: string): Promise<Agent> => {
    const x = await Agent.start({ name, connection: { url: broker.url }, key, stateDir: join(work, `handoff-${name}`), dirs, heartbeatMs: 500, log: logs.log });
    agents.push(x);
    return x;
  };
  const a = await start('ha');
  let b = await start('hb');
  // The rogue sees b's inbox and data topic (the handoff to b), and a's inbox (b's answers).
  const captured: { topic: string; payload: Buffer; type?: string; id?: string; re?: string; ok?: boolean; message?: string }[] = [];
  const rogue = await MqttLink.open({
    connection: { url: broker.url }, clientId: 'wasmig-rogue-handoff', persistent: false,
    onMessage: (topic, payload) => {
      let m: { type?: string; id?: string; re?: string; ok?: boolean; message?: string } = {};
      try { m = JSON.parse(payload.toString()) as typeof m; } catch { /* blob chunks */ }
      captured.push({ topic, payload, ...m });
    },
  });
  await rogue.subscribe([topics.agentInbox('hb'), topics.agentData('hb'), topics.agentInbox('ha')]);
  const client = await FleetClient.connect({ connection: { url: broker.url }, key });
  try {
    // Held at its gate for as long as the test runs: a job that is running when it moves.
    await client.start({ agent: 'ha', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=4', 'gate=/ctl/never', 'at=1'], job: 'handed' });
    const moved = await client.migrate('handed', 'hb');
    assert.is(moved.epoch, 2);
    const step = (type: string): (typeof captured)[number] => {
      const found = captured.find((c) => c.topic === topics.agentInbox('hb') && c.type === type);
      if (!found) throw new Error(`the rogue saw no ${type}: ${captured.map((c) => c.type).join(', ')}`);
      return found;
    };
    const prepare = step('prepare');
    // The final commits (no separate commit message when its answer comes).
    const final = step('final');
    // Only the prepare left a mark in b's file: the final, on the pause, costs no write.
    const marks = JSON.parse(readFileSync(join(work, 'handoff-hb', 'replay-guard.json'), 'utf8')) as { senders: Record<string, { ts: number; ids: string[] }> };
    assert.equal(marks.senders.ha?.ids, [prepare.id], JSON.stringify(marks));

    // The same run: every id is remembered (dropped as a duplicate delivery); the job stays as it is and moves on.
    await rogue.publish(topics.agentInbox('hb'), final.payload, { qos: 1 });

    // Back to a, then b restarts (same state dir) and gets the whole handoff again, in order.
    assert.is((await client.migrate('handed', 'ha')).epoch, 3);
    await b.stop();
    agents.splice(agents.indexOf(b), 1);
    b = await start('hb');
    // b answered the real final: the replay's answer comes after that.
    const answered = captured.filter((c) => c.re === final.id && c.topic === topics.agentInbox('ha')).length;
    const last = captured.indexOf(final);
    // The final and the blob chunks right behind it.
    const handoff = captured.filter((c, i) => c.topic !== topics.agentInbox('ha') && (i <= last || (c.topic === topics.agentData('hb') && c.type === undefined && captured.slice(last + 1, i).every((x) => x.topic !== topics.agentInbox('hb')))));
    for (const c of handoff) await rogue.publish(c.topic, c.payload, { qos: 1 });
    await logs.waitFor(new RegExp(`agent hb: refused prepare request ${prepare.id!.slice(0, 8)} from ha: replayed message \\(not newer than the last one accepted from ha before this restart\\)`));
    await logs.waitFor(/agent hb: refused job handed from ha \(epoch 2\): no handoff of job handed at epoch 2 from ha is under way here/);
    const answer = await waitUntil(() => captured.filter((c) => c.re === final.id && c.topic === topics.agentInbox('ha'))[answered], 'the restarted b answered the replayed final');
    assert.is(answer.ok, false, JSON.stringify(answer.message));
    assert.match(String(answer.message), /no handoff of job handed at epoch 2 from ha is under way here/);
    assert.not.ok(b.jobs.has('handed'), 'the restarted b holds no copy of the job');
    const state = (await client.list()).jobs.find((j) => j.job === 'handed');
    assert.is(state?.agent, 'ha');
    assert.is(state?.epoch, 3);
    assert.ok(a.jobs.has('handed'));
  } finally {
    await client.close();
    await rogue.close();
  }
});

/** Polls `get` until it gives something (the replies the rogue sees come when they come). */
async function waitUntil<T>(get: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  for (let waited = 0; waited < timeoutMs; waited += 20) {
    const got = get();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

s('a replay guard file that is not one is a clear error at start', async () => {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(work, 'broken'), { recursive: true });
  writeFileSync(join(work, 'broken', 'replay-guard.json'), 'not json');
  try {
    await Agent.start({ name: 'broken', connection: { url: broker.url }, key, stateDir: join(work, 'broken'), log: logs.log });
    assert.unreachable('started');
  } catch (error) {
    assert.match((error as Error).message, /replay-guard\.json is not a replay guard file \(delete it to start over/);
  }
});

s.run();
