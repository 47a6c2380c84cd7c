import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { repoRoot } from '../helpers/cli.ts';

// A follower that begins before the broker holds the job's state: what `run --on` met when
// the broker restarted as it began to follow (at load 11 it exited 2, "no job ... is known"),
// the agent not having published the state to the new broker yet.
const hello = readFileSync(join(repoRoot, 'test/programs/hello.wasm'));
const s = suite('a follower and a job state that comes late');
let broker: EmbeddedBroker;
let a: Agent;
let client: FleetClient;

s.before(async () => {
  broker = await startBroker({ port: 0 });
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, log: () => {} });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client.close();
  await a.stop();
  await broker.close();
});

s('without awaitStateMs, a job the broker does not know is unknown at once', async () => {
  await client.follow('nobody', { onOutput: () => {} }).then(
    () => assert.unreachable('follow should fail'),
    (e: Error) => assert.match(e.message, /no job nobody is known to the broker/),
  );
});

s('with awaitStateMs, the follower waits for the state, then follows the job to its end', async () => {
  let out = '';
  const following = client.follow('late', { awaitStateMs: 60_000, onOutput: (c) => { if (c.stream === 1) out += Buffer.from(c.data).toString(); } });
  // The job (and its state) appears only after the follow began.
  await new Promise((r) => setTimeout(r, 300));
  await client.start({ agent: 'a', module: hello, program: 'hello.wasm', args: ['hello.wasm'], job: 'late' });
  const end = await following;
  assert.is(end.state, 'exited');
  assert.match(out, /hello/i);
});

s.run();
