/**
 * Issue 16's replay attacks, by a rogue MQTT client that sees the broker's traffic: a
 * captured, validly signed `start` is published into another agent's inbox, and into the
 * same agent's inbox after it restarted. Both are refused, with the reason in the
 * agent's log, and no job starts. Before recipient binding and the persistent replay
 * guard, both started the job.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
