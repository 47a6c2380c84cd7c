/**
 * Live migration between agents in one process: pre-copy rounds raced by a job that
 * keeps writing its memory (the result is bit for bit a run that never moved), the
 * fallback when rounds do not converge, the deadline, stop-and-copy, cancellation, and
 * a base that is corrupt or missing (never a wrong memory: the job goes on).
 * test/integration/fleet.test.ts kills a target mid-round in a separate process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, JobState, MigrationResult } from '../../src/agent/index.ts';
import { MigrationError } from '../../src/errors/index.ts';
import { writerOutput, writerPath } from '../helpers/writer.ts';

const writer = readFileSync(writerPath);
const quiet = (): void => {};
// Each job holds after its last step until the test opens its gate (writer's gate=PATH):
// a loaded machine slows the migrations, never the job's end into racing them.
const gates = mkdtempSync(join(tmpdir(), 'wasmig-gates-'));
const dirs = [{ host: gates, guest: '/gates' }];
const openGate = (job: string): void => writeFileSync(join(gates, job), '');

const s = suite('live migration');
let broker: EmbeddedBroker;
let a: Agent;
let b: Agent;
let client: FleetClient;

s.before(async () => {
  broker = await startBroker({ port: 0 });
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, log: quiet, dirs });
  b = await Agent.start({ name: 'b', connection: { url: broker.url }, log: quiet, dirs });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client.close();
  await Promise.all([a.stop(), b.stop()]);
  await broker.close();
  rmSync(gates, { recursive: true, force: true });
});

/** A writer job: `finish()` lets it end and resolves with its whole stdout and final state. */
interface WriterRun { finish(): Promise<{ stdout: string; state: JobState }>; firstLine: Promise<void> }

/** Starts writer on `agent`, held at its gate after the last step until `finish()`. */
async function startWriter(job: string, args: string[], agent = 'a'): Promise<WriterRun> {
  await client.start({ agent, module: writer, program: 'writer.wasm', args: ['writer.wasm', ...args, `gate=/gates/${job}`], job });
  let stdout = '';
  let seen!: () => void;
  const firstLine = new Promise<void>((r) => { seen = r; });
  const output = client.follow(job, { onOutput: (c) => { if (c.stream === 1) { stdout += Buffer.from(c.data).toString(); if (stdout.includes('\n')) seen(); } } })
    .then((state) => ({ stdout, state }));
  // Awaited by finish(); a test that fails before it leaves it to the client's close, which
  // must not end the whole file with an unhandled rejection (and hide the failure's message).
  output.catch(() => {});
  return { finish: () => { openGate(job); return output; }, firstLine };
}

async function fails(p: Promise<MigrationResult>, why: RegExp, at: string): Promise<void> {
  await p.then(() => assert.unreachable('the migration should fail'), (e: Error) => {
    assert.ok(e instanceof MigrationError, String(e));
    assert.match(e.message, why, e.message);
    assert.match(e.message, new RegExp(`the job goes on at ${at}$`), e.message);
  });
}

s('a job writing its memory through the rounds moves there and back: bit for bit a run that never moved', async () => {
  const args = ['mem=4', 'rate=4096', 'steps=1500'];
  const want = writerOutput(args);
  const run = await startWriter('racer', args);
  await run.firstLine;
  const there = await client.migrate('racer', 'b');
  assert.is(there.mode, 'pre-copy');
  assert.ok(there.rounds >= 1, `${there.rounds} rounds`);
  assert.ok(there.precopyBytes > 4 * 1024 * 1024, 'the filled memory went over in the rounds');
  // The pause hop by hop, on one clock (both agents run on this machine): every hop of
  // source, target and their workers, in the order the protocol makes them happen.
  // The final commits: the target's worker restores from the package's arrival to the
  // answer, a second chain beside the protocol's.
  const order = [
    'paused', 'sourceWorkerTook', 'sourceWorkerCaptured', 'sourceHadPackage', 'sourceSendingFinal',
    'targetRequestArrived', 'targetRequestChecked', 'targetHadRequest', 'targetHadPackage', 'targetDecoded', 'targetCommitted', 'targetAnswered',
    'sourceCommittedArrived', 'sourceCommittedChecked', 'sourceHadCommitted',
  ];
  const restoring = ['targetDecoded', 'targetWorkerTook', 'targetDeltasApplied', 'targetStateDecoded', 'targetWorkerRestored', 'targetAnswered'];
  const hops = there.hops;
  const inOrder = (order: string[]): void => order.forEach((name, i) => {
    assert.type(hops[name], 'number', `hop ${name} missing: ${JSON.stringify(hops)}`);
    if (i > 0) assert.ok(hops[name] >= hops[order[i - 1]] - 1, `${name} before ${order[i - 1]}: ${JSON.stringify(hops)}`);
  });
  inOrder(order);
  inOrder(restoring);
  assert.ok(Math.abs(hops.sourceHadCommitted - there.downtimeMs) < 1, `the last hop is the downtime: ${JSON.stringify(hops)}, ${there.downtimeMs} ms`);
  const back = await client.migrate('racer', 'a');
  assert.ok(back.rounds >= 1);
  const { stdout, state } = await run.finish();
  assert.is(state.state, 'exited');
  assert.is(stdout, want);
});

s('the pause\'s end: the target\'s answer goes out alone, its new state a turn later, and the source acts on the answer before it checks that state', async () => {
  const args = ['mem=1', 'rate=0', 'steps=400'];
  const run = await startWriter('order', args);
  await run.firstLine;
  const stateTopic = topics.jobState('order');
  // At b: whether the turn that wrote the answer to the final was over when the job's new state was published.
  let answerTurnOver: boolean | undefined;
  let stateAfterAnswer: boolean | undefined;
  const publish = b.peer.link.publish.bind(b.peer.link);
  b.peer.link.publish = (topic, payload, options) => {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString();
    if (topic === topics.agentInbox('a') && text.includes('"targetAnswered"')) {
      answerTurnOver = false;
      setImmediate(() => { answerTurnOver = true; });
    } else if (topic === stateTopic && text.includes('"agent":"b"') && stateAfterAnswer === undefined) {
      stateAfterAnswer = answerTurnOver;
    }
    return publish(topic, payload, options);
  };
  // At a: whether the answer had been acted on when b's state was checked. The progress
  // reports held since the pause go out the moment the downtime ends.
  let downtimeOver = false;
  let overWhenChecked: boolean | undefined;
  const aPublish = a.peer.link.publish.bind(a.peer.link);
  a.peer.link.publish = (topic, payload, options) => {
    if ((typeof payload === 'string' ? payload : Buffer.from(payload).toString()).includes('"phase":"pause"')) downtimeOver = true;
    return aPublish(topic, payload, options);
  };
  const check = a.peer.checkDocument.bind(a.peer);
  a.peer.checkDocument = (doc) => {
    const d = doc as Partial<JobState>;
    if (d.job === 'order' && d.agent === 'b' && overWhenChecked === undefined) overWhenChecked = downtimeOver;
    return check(doc);
  };
  try {
    await client.migrate('order', 'b');
    for (let i = 0; i < 100 && (overWhenChecked === undefined || stateAfterAnswer === undefined); i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    b.peer.link.publish = publish;
    a.peer.link.publish = aPublish;
    a.peer.checkDocument = check;
  }
  assert.is(stateAfterAnswer, true, 'b published the job\'s state in the turn that wrote its answer (MQTT.js sends them together)');
  assert.ok(downtimeOver, 'the held progress reports went out');
  assert.is(overWhenChecked, true, 'a checked b\'s state before it acted on the answer (the check sat in the downtime)');
  const { stdout, state } = await run.finish();
  assert.is(state.state, 'exited');
  assert.is(stdout, writerOutput(args));
});

s('a job that dirties memory faster than the link: the rest goes over in the pause, and the result says so', async () => {
  const args = ['mem=8', 'full=1', 'steps=1000'];
  const want = writerOutput(args);
  const run = await startWriter('dirty', args);
  await run.firstLine;
  const r = await client.migrate('dirty', 'b', { maxDowntimeMs: 1 });
  assert.is(r.mode, 'pre-copy');
  assert.match(r.reason, /changes memory as fast as the link carries it/);
  assert.ok(r.finalBlocks > 1000, `${r.finalBlocks} blocks in the pause`);
  const { stdout } = await run.finish();
  assert.is(stdout, want);
});

s('a deadline of 0 and --stop-and-copy: no rounds, everything in the pause', async () => {
  const args = ['mem=4', 'rate=1024', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('nodelay', args);
  await run.firstLine;
  const r = await client.migrate('nodelay', 'b', { deadlineMs: 0 });
  assert.is(r.rounds, 0);
  assert.match(r.reason, /^the deadline passed after 0 rounds$/);
  assert.ok(r.finalBytes > 4 * 1024 * 1024);
  const back = await client.migrate('nodelay', 'a', { mode: 'stop-and-copy' });
  assert.is(back.mode, 'stop-and-copy');
  assert.is(back.rounds, 0);
  assert.is(back.reason, 'stop-and-copy was asked for');
  assert.is((await run.finish()).stdout, want);
});

s('a migration cancelled during its rounds: the job goes on at the source, untouched', async () => {
  const args = ['mem=16', 'full=1', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('cancelled', args);
  await run.firstLine;
  let asked = false;
  let cancelError = '';
  const moving = client.migrate('cancelled', 'b', {
    maxDowntimeMs: 1,
    onProgress: (p) => {
      if (p.phase === 'round' && !asked) { asked = true; client.cancelMigration('cancelled').catch((e: Error) => { cancelError = e.message; }); }
    },
  });
  await fails(moving.catch((e: Error) => { throw cancelError ? new Error(`${e.message} (cancel: ${cancelError})`) : e; }), /the migration was cancelled \(asked by /, 'a');
  assert.is(a.jobs.get('cancelled')?.state, 'running');
  // The abort reaches the target after the source answered.
  for (let i = 0; i < 100 && b.incoming.has('cancelled'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.is(b.incoming.has('cancelled'), false, 'the target dropped its copy');
  assert.is((await run.finish()).stdout, want);
});

s('a corrupt base at the target is found by the digests: the job goes on at the source, then moves in full', async () => {
  const args = ['mem=4', 'rate=256', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('based', args);
  await run.firstLine;
  await client.migrate('based', 'b');
  const held = a.bases.peek('based');
  assert.ok(held, 'a keeps what it sent');
  new Uint8Array(held.images[0])[12345] ^= 1;
  await fails(client.migrate('based', 'a'), /refused the snapshot: the snapshot does not restore: the memory received does not match the source's/, 'b');
  assert.is(b.jobs.get('based')?.state, 'running');
  // a dropped the bad base with the failed handoff: the next move sends everything, from the module's image.
  const again = await client.migrate('based', 'a');
  assert.ok(again.precopyBytes > 4 * 1024 * 1024, `${again.precopyBytes} bytes`);
  assert.is((await run.finish()).stdout, want);
});

s('a base the source no longer has: the target starts again from the module\'s image', async () => {
  const args = ['mem=4', 'rate=256', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('rebased', args);
  await run.firstLine;
  await client.migrate('rebased', 'b');
  assert.ok(a.bases.peek('rebased'));
  // b forgets the images it arrived with: it can no longer diff against what a holds.
  await b.jobs.get('rebased')!.forget();
  const back = await client.migrate('rebased', 'a');
  assert.ok(back.precopyBytes > 4 * 1024 * 1024, `${back.precopyBytes} bytes`);
  assert.is((await run.finish()).stdout, want);
});

/**
 * Makes b hold its answers to pre-copy rounds after the first until the final has come
 * (`corruptLast`: b also takes those rounds' blobs for corrupt, as if a chunk had been
 * damaged on the way); returns the undo.
 */
function holdLaterRounds(job: string, corruptLast = false): () => void {
  const peer = b.peer;
  const reply = peer.reply.bind(peer);
  const receive = b.incoming.receive.bind(b.incoming);
  const held: (() => void)[] = [];
  const laterRounds = new Set<string>();
  let finalCame = false;
  peer.reply = (request, fields) => {
    if (!laterRounds.has(request.id) || finalCame) return reply(request, fields);
    return new Promise<void>((resolve) => held.push(() => { reply(request, fields).then(resolve, resolve); }));
  };
  b.incoming.receive = (req) => {
    if (req.job === job && req.type === 'round' && req.round > 1) {
      laterRounds.add(req.id);
      if (corruptLast) req = { ...req, sha256: '0'.repeat(64) };
    }
    if (req.job === job && req.type === 'final') {
      finalCame = true;
      for (const release of held.splice(0)) release();
    }
    return receive(req);
  };
  return () => {
    peer.reply = reply;
    b.incoming.receive = receive;
    for (const release of held.splice(0)) release();
  };
}

s('the last round is not waited for: the pause follows it at once, and the target applies it before the final', async () => {
  // A job that writes only its output between rounds: the second round is always the last
  // (a few blocks), whatever the machine's load; with a busier writer it could be a later one.
  const args = ['mem=4', 'rate=0', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('pipelined', args);
  await run.firstLine;
  // b answers no round after the first until the final came: a source that waited for
  // the last round's answer before pausing would wait until its timeout and give up.
  const undo = holdLaterRounds('pipelined');
  try {
    const r = await client.migrate('pipelined', 'b');
    assert.match(r.reason, /^converged after \d+ rounds/);
    assert.is(r.rounds, 2, r.reason);
  } finally {
    undo();
  }
  assert.is(b.jobs.get('pipelined')?.state, 'running');
  assert.is((await run.finish()).stdout, want);
});

s('a last round that does not apply at the target: the final is refused, and the job goes on at the source with the round\'s reason', async () => {
  // A job that writes only its output between rounds: the second round is always the last
  // (a few blocks), whatever the machine's load; with a busier writer it could be a later one.
  const args = ['mem=4', 'rate=0', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('badlast', args);
  await run.firstLine;
  const undo = holdLaterRounds('badlast', true);
  try {
    await fails(client.migrate('badlast', 'b'), /refused the pre-copy round: pre-copy round \d+ does not apply: the pre-copy round \d+ fails its sha256 check/, 'a');
  } finally {
    undo();
  }
  assert.is(a.jobs.get('badlast')?.state, 'running');
  for (let i = 0; i < 100 && b.incoming.has('badlast'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.is(b.incoming.has('badlast'), false, 'the target holds no copy');
  assert.is((await run.finish()).stdout, want);
});

s('the last round\'s blob arriving after the final\'s: the target still applies the round first', async () => {
  // A job that writes only its output between rounds: the second round is always the last
  // (a few blocks), whatever the machine's load; with a busier writer it could be a later one.
  const args = ['mem=4', 'rate=0', 'steps=600'];
  const want = writerOutput(args);
  const run = await startWriter('overtaken', args);
  await run.firstLine;
  // b's receiver holds the chunks of every round after the first until the final's have
  // all come: the final's blob is whole first, and must wait for the round's.
  const receiver = b.receiver;
  const accept = receiver.accept.bind(receiver);
  const receive = b.incoming.receive.bind(b.incoming);
  const laterRounds = new Set<string>();
  const held: Buffer[] = [];
  let final: { transfer: string; chunks: number } | undefined;
  let finalChunks = 0;
  b.incoming.receive = (req) => {
    if (req.job === 'overtaken' && req.type === 'round' && req.round > 1) laterRounds.add(req.transfer);
    if (req.job === 'overtaken' && req.type === 'final') final = { transfer: req.transfer, chunks: req.chunks };
    return receive(req);
  };
  const transferOf = (payload: Buffer): string => payload.toString('hex', 4, 20);
  receiver.accept = (payload) => {
    const transfer = transferOf(payload);
    if (laterRounds.has(transfer) && final === undefined) { held.push(payload); return undefined; }
    const why = accept(payload);
    if (final !== undefined && transfer === final.transfer && ++finalChunks === final.chunks) {
      setTimeout(() => { for (const chunk of held.splice(0)) accept(chunk); }, 20);
    }
    return why;
  };
  try {
    const r = await client.migrate('overtaken', 'b');
    assert.match(r.reason, /^converged after \d+ rounds/);
    assert.ok(laterRounds.size >= 1, 'a round after the first went');
  } finally {
    receiver.accept = accept;
    b.incoming.receive = receive;
  }
  assert.is(b.jobs.get('overtaken')?.state, 'running');
  assert.is((await run.finish()).stdout, want);
});

s.run();
