/**
 * What an agent remembers of jobs that left it is bounded (src/agent/job-records.ts):
 * before, `Agent.moved` and `Agent.observed` kept an entry (about 100 bytes) for every
 * job that ever passed through, for as long as the agent ran.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker } from '../../src/agent/index.ts';
import { JobRecords } from '../../src/agent/job-records.ts';
import { writerPath } from '../helpers/writer.ts';

const s = suite('job records');

s('beyond the bound the oldest record goes; a set makes a record the newest; kept ones stay', () => {
  const held = new Set(['b']);
  const r = new JobRecords<number>(3, (id) => held.has(id));
  for (const id of ['a', 'b', 'c']) r.set(id, 1);
  r.set('a', 2); // now the newest
  r.set('d', 1);
  // c was the oldest not held: 'b' is older but held here.
  assert.equal(['a', 'b', 'c', 'd'].filter((id) => r.has(id)), ['a', 'b', 'd']);
  r.set('e', 1);
  assert.equal(['a', 'b', 'd', 'e'].filter((id) => r.has(id)), ['b', 'd', 'e']);
  assert.is(r.get('d'), 1);
  // Every other record held: the bound gives way rather than lose one.
  held.add('d').add('e');
  r.set('f', 1);
  assert.is(r.size, 4);
  assert.ok(r.delete('f'));
  assert.is(r.size, 3);
});

s('an agent that six jobs left keeps where the newest three went and their states, not all six', async () => {
  const broker = await startBroker({ port: 0 });
  const names = ['a', 'b'];
  // Each agent says when a job has left it (AgentOptions.afterDeparture: where `wasmig agent` collects a move's garbage).
  const departures: Record<string, number> = { a: 0, b: 0 };
  const agents = await Promise.all(names.map((name) => Agent.start({ name, connection: { url: broker.url }, log: () => {}, jobRecords: 3, afterDeparture: () => departures[name]++ })));
  const [a] = agents;
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  const module = readFileSync(writerPath);
  try {
    const jobs = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'];
    for (const job of jobs) {
      await client.start({ agent: 'a', module, program: 'writer.wasm', args: ['writer.wasm', 'mem=1', 'rate=64', 'steps=100000000'], job });
      await client.migrate(job, 'b', { mode: 'stop-and-copy' });
    }
    await a.peer.sync();
    assert.is(a.moved.size, 3, `a keeps ${a.moved.size} forwarding addresses`);
    assert.is(a.observed.size, 3, `a keeps ${a.observed.size} states of jobs it no longer holds`);
    assert.equal(jobs.filter((j) => a.moved.has(j)), ['j4', 'j5', 'j6']);
    assert.is(a.moved.get('j6')?.to, 'b');
    // The agent that holds them keeps every one.
    assert.is(agents[1].observed.size, 6);
    assert.equal(departures, { a: 6, b: 0 });
  } finally {
    await client.close();
    await Promise.all(agents.map((x) => x.stop()));
    await broker.close();
  }
});

s.run();
