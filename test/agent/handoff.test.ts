/**
 * The source side of the handoff against a scripted target, for the answers a real agent
 * rarely gives: a refusal, a copy gone when the final (which commits) comes, a final
 * nobody confirms (in doubt), a target going offline once the final is out.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import type { Request } from '../../src/agent/messages.ts';
import { Peer } from '../../src/agent/peer.ts';
import { MigrationError } from '../../src/errors/index.ts';
import { tickerPath } from '../helpers/ticker.ts';

type Script = 'refuse' | 'unknown' | 'silent' | 'vanish' | 'watch';

const s = suite('handoff failures');
let broker: EmbeddedBroker;
let source: Agent;
let client: FleetClient;
let target: Peer;
let script: Script = 'refuse';
const quiet = (): void => {};
/** The progress reports the client has had (script `watch`), and those it had when the commit reached the target. */
const seen: string[] = [];
let seenAtCommit: string[] | undefined;

async function announce(online: boolean): Promise<void> {
  await target.link.publish(topics.agentStatus('f'), JSON.stringify({ v: 1, agent: 'f', instance: 'f1', online, dirs: [] }), { retain: true });
}

function onRequest(req: Request): void {
  if (req.type === 'prepare') {
    if (script === 'refuse') { void target.reply(req, { ok: false, code: 'refused', message: 'no room here' }); return; }
    void target.reply(req, { ok: true, stage: 'prepared', data: {} });
  } else if (req.type === 'round') {
    // The blob that follows is taken as applied.
    void target.reply(req, { ok: true, stage: 'done' });
  } else if (req.type === 'final') {
    // The final commits: the scripts answer it as a target that holds no copy, or not at all.
    if (script === 'vanish') { void announce(false); return; }
    if (script === 'watch') seenAtCommit = [...seen];
    if (script === 'unknown' || script === 'watch') void target.reply(req, { ok: false, code: 'unknown', message: 'no copy being received' });
  } else if (req.type === 'commit') {
    // Asked again after a final nobody answered: nobody answers it either (script `silent`).
  } else if (req.type === 'upload') {
    // The module, sent ahead of the pause: this target has it.
    void target.reply(req, { ok: true, data: { have: true } });
  } else {
    void target.reply(req, { ok: true });
  }
}

s.before(async () => {
  broker = await startBroker({ port: 0 });
  const connection = { url: broker.url };
  // The interpreter: this is about the protocol, and its slices keep the event loop this
  // process shares with the broker responsive.
  source = await Agent.start({ name: 's', connection, tier: 'interp', log: quiet, timeouts: { commitMs: 150, commitAttempts: 2, incomingTtlMs: 300 } });
  target = await Peer.open({ connection, id: 'f', inbox: topics.agentInbox('f'), persistent: false, onRequest, log: quiet });
  await target.listen([topics.agentData('f')], () => {});
  await announce(true);
  client = await FleetClient.connect({ connection });
  await client.start({ agent: 's', module: readFileSync(tickerPath), program: 'ticker.wasm', args: ['ticker.wasm', 'lines=100000000', 'work=100'], job: 'j' });
});

s.after(async () => {
  await client.close();
  await target.close();
  await source.stop();
  await broker.close();
});

async function attempt(why: RegExp): Promise<void> {
  await client.migrate('j', 'f', { onProgress: (p) => seen.push(p.phase) }).then(() => assert.unreachable('the migration should fail'), (e: Error) => {
    assert.ok(e instanceof MigrationError, String(e));
    assert.match(e.message, why);
    assert.match(e.message, /the job goes on at s$/);
  });
  const job = source.jobs.get('j');
  assert.is(job?.state, 'running');
}

s('a refusal at prepare: the job goes on at its epoch', async () => {
  script = 'refuse';
  await attempt(/agent f refused the job: no room here/);
  assert.is(source.jobs.get('j')?.epoch, 1);
});

s('the target holds no copy when the final comes: safe to resume, same epoch', async () => {
  script = 'unknown';
  await attempt(/agent f no longer held the copy being received when the final came \(no copy being received\)/);
  assert.is(source.jobs.get('j')?.epoch, 1);
});

s('no progress report goes out between the pause and the commit (each is a message on the pause\'s thread and broker); they all come after it', async () => {
  script = 'watch';
  seen.length = 0;
  await attempt(/agent f no longer held the copy being received when the final came/);
  assert.ok(seenAtCommit, 'the target had the final');
  assert.ok(seenAtCommit.includes('prepare'), `the reports before the pause came at once: ${seenAtCommit.join(', ')}`);
  for (const phase of ['pause', 'transfer', 'restore']) {
    assert.not.ok(seenAtCommit.includes(phase), `${phase} was reported before the commit: ${seenAtCommit.join(', ')}`);
    assert.ok(seen.includes(phase), `${phase} reported in the end: ${seen.join(', ')}`);
  }
});

s('a final nobody confirms, nor the commits asked again: the job resumes at a new epoch that fences any other copy', async () => {
  script = 'silent';
  await attempt(/agent f did not confirm the commit; any copy it started is fenced off by the new epoch/);
  const job = source.jobs.get('j');
  assert.ok((job?.epoch ?? 0) > 2, `epoch ${job?.epoch}`);
  let state = await client.jobState('j');
  for (let i = 0; i < 20 && state?.epoch !== job?.epoch; i++) state = await client.jobState('j');
  assert.is(state?.epoch, job?.epoch);
  assert.is(state?.agent, 's');
});

s('the target goes offline once the final is out: the job goes on at once, at a new epoch (the final may have started a copy there)', async () => {
  script = 'vanish';
  const before = source.jobs.get('j')?.epoch ?? 0;
  await attempt(/agent f did not confirm the commit and went offline; any copy it started is fenced off by the new epoch/);
  assert.ok((source.jobs.get('j')?.epoch ?? 0) > before + 1, `epoch ${source.jobs.get('j')?.epoch} after ${before}`);
});

s.run();
