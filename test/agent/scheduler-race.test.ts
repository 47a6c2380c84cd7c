/**
 * Two schedulers decide the same move in the same instant (agents, broker and both
 * schedulers in one process, their looks run together): the job moves once. The second
 * ask reaches the agent the job was seen on while the first move is under way (refused:
 * already being moved) or after it (refused: the job moved), never a second handoff.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, parseRuleSet, Scheduler, signalsTopic, startBroker } from '../../src/agent/index.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

test('two schedulers, one decision, one move', async () => {
  const work = mkdtempSync(join(tmpdir(), 'wasmig-race-'));
  const ctl = join(work, 'ctl');
  mkdirSync(ctl);
  const broker = await startBroker({ port: 0 });
  const agentLogs: string[] = [];
  const agents = await Promise.all(['a', 'b'].map((name) => Agent.start({
    name, connection: { url: broker.url }, dirs: [{ host: ctl, guest: '/ctl' }], heartbeatMs: 200, log: (l) => agentLogs.push(l),
  })));
  const clients = await Promise.all([0, 1, 2].map(() => FleetClient.connect({ connection: { url: broker.url } })));
  try {
    const args = ['lines=40', 'work=3000', 'gate=/ctl/race', 'at=30', 'status=7'];
    await clients[0].start({ agent: 'a', module: readFileSync(tickerPath), program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'race' });
    let out = '';
    const following = clients[0].follow('race', { onOutput: (c) => { if (c.stream === 1) out += c.data.toString(); } });
    await clients[0].peer.link.publish(signalsTopic('a'), JSON.stringify({ leaving: true }), { qos: 1, retain: true });
    // Heartbeats of both agents are in (their first goes out at start).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rules = parseRuleSet(JSON.stringify({ rules: [{ name: 'leaving', if: 'signal', signal: 'leaving', equals: true }] }), 'rules.json');
    const logs: string[] = [];
    const schedulers = [1, 2].map((i) => new Scheduler({ peer: clients[i].peer, rules, name: `s${i}`, log: (l) => logs.push(`s${i}: ${l}`) }));
    await Promise.all(schedulers.map((s) => s.lookOnce()));
    console.log(logs.join('\n'));
    const asked = logs.filter((l) => / moving job race from a to b/.test(l));
    assert.is(asked.length, 2, `both decided the move:\n${logs.join('\n')}`);
    assert.is(logs.filter((l) => / moved job race from a to b/.test(l)).length, 1, logs.join('\n'));
    assert.is(logs.filter((l) => / job race did not move: (job race is already being moved to b|job race moved to agent b)/.test(l)).length, 1, logs.join('\n'));
    assert.is(agentLogs.filter((l) => /agent a: job race moved to b \(epoch 2/.test(l)).length, 1);
    assert.is((await clients[0].jobState('race'))?.epoch, 2);
    writeFileSync(join(ctl, 'race'), '');
    const end = await following;
    assert.is(end.status, 7);
    assert.is(end.agent, 'b');
    assert.is(out, tickerOutput(args).stdout);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(agents.map((a) => a.stop()));
    await broker.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
