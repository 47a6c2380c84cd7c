/**
 * A job in its worker thread (`Job`, `job-runner.ts`, `job-thread.ts`): the same output
 * as a run in this process, pauses and snapshots taken while the program runs on
 * either tier, deep recursion and runaway recursion, and a worker that dies.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Job } from '../../src/agent/job.ts';
import type { ProgramSetup, RunStarted } from '../../src/agent/job-protocol.ts';
import type { SharedClones } from '../../src/native/index.ts';
import type { LogEntry } from '../../src/agent/output-log.ts';
import { OutputLog } from '../../src/agent/output-log.ts';
import { decodeFinal, decodeRound, encodeFinal, encodeRound } from '../../src/agent/package.ts';
import type { JobSpec } from '../../src/agent/messages.ts';
import { defaultEngines, loadModule } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { repoRoot } from '../helpers/cli.ts';
import { runawayModule } from '../helpers/runaway.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';
import { writerPath } from '../helpers/writer.ts';
import { constExpr, ModuleBuilder } from '../helpers/module-builder.ts';
import { ValType } from '../../src/wasm/types.ts';

const ticker = readFileSync(tickerPath);
const recursion = readFileSync(resolve(repoRoot, 'test/programs/recursion.wasm'));
const writer = readFileSync(writerPath);


interface Watched {
  job: Job;
  stdout: () => string;
  stderr: () => string;
  ended: Promise<Job>;
}

function newJob(log = new OutputLog(), handed: SharedClones = []): Watched {
  const entries: LogEntry[] = [];
  let ended!: (job: Job) => void;
  const done = new Promise<Job>((r) => { ended = r; });
  const job = new Job({
    id: 'j1', spec: { program: 'p.wasm' } as JobSpec, epoch: 1, log,
    hooks: { output: (_j, e) => { entries.push(...e); }, end: (j) => ended(j), clones: (_j, c) => { handed.push(...c); } },
  });
  const text = (stream: number): string => Buffer.concat(log.since(0).filter((e) => e.stream === stream).map((e) => e.data)).toString();
  return { job, stdout: () => text(1), stderr: () => text(2), ended: done };
}

function setup(module: Uint8Array, tier: Tier): ProgramSetup {
  return { module, name: 'p.wasm', preopens: [], tier };
}

/** A directory the jobs see as /ctl, where a test opens a ticker's gate. */
const ctl = mkdtempSync(join(tmpdir(), 'wasmig-job-'));

function gated(module: Uint8Array, tier: Tier): ProgramSetup {
  return { module, name: 'p.wasm', preopens: [{ host: ctl, guest: '/ctl' }], tier };
}

const s = suite('a job in a worker thread');

for (const tier of ['interp', 'native'] as const) {
  s(`${tier}: the output and status of a run in this process`, async () => {
    const args = ['lines=40', 'work=500', 'status=3'];
    const want = tickerOutput(args);
    const w = newJob();
    await w.job.start(setup(ticker, tier), ['ticker.wasm', ...args], {});
    w.job.run();
    const job = await w.ended;
    assert.is(job.state, 'exited');
    assert.is(job.status, 3);
    assert.is(w.stdout(), want.stdout);
    assert.is(w.stderr(), want.stderr);
  });

  s(`${tier}: paused while it runs, snapshotted, resumed in another worker: the output of an uninterrupted run`, async () => {
    // The job holds at a gate before line 60, so it cannot end before the pause lands.
    const gate = `gate-${tier}-1`;
    const args = ['lines=120', 'work=1500', `gate=/ctl/${gate}`, 'at=60'];
    const want = tickerOutput(args);
    const log = new OutputLog();
    const first = newJob(log);
    await first.job.start(gated(ticker, tier), ['ticker.wasm', ...args], {});
    first.job.run();
    // Wait for some lines, then pause the running program from this thread.
    while (!/^tick 10\//m.test(first.stdout())) await new Promise((r) => setTimeout(r, 5));
    await first.job.pause();
    assert.is(first.job.state, 'paused');
    const before = log.next;
    await new Promise((r) => setTimeout(r, 50));
    assert.is(log.next, before, 'a paused job writes nothing');
    const snapshot = await first.job.snapshot();
    first.job.discard();
    const second = newJob(log);
    await second.job.restore(gated(ticker, tier), snapshot);
    second.job.run();
    writeFileSync(join(ctl, gate), '');
    const job = await second.ended;
    assert.is(job.state, 'exited');
    assert.is(second.stdout(), want.stdout);
    assert.is(second.stderr(), want.stderr);
  });

  s(`${tier}: a snapshot taken without pausing leaves the job running`, async () => {
    const gate = `gate-${tier}-2`;
    const args = ['lines=60', 'work=1000', `gate=/ctl/${gate}`, 'at=30'];
    const want = tickerOutput(args);
    const w = newJob();
    await w.job.start(gated(ticker, tier), ['ticker.wasm', ...args], {});
    w.job.run();
    const snapshot = await w.job.snapshot();
    assert.ok(snapshot.length > 0);
    assert.is(w.job.state, 'running');
    writeFileSync(join(ctl, gate), '');
    await w.ended;
    assert.is(w.stdout(), want.stdout);
  });
}

s('native: a loop that sleeps in a host call pauses before its next iteration, not after a thousand', async () => {
  // writer with rate=0 sleeps 10 ms per iteration: counted in loop iterations, the
  // native tier's poll countdown came round after 1,024 iterations or more (10 s or
  // more: this job ends after 15 s), so the pause landed only once the job had ended.
  const w = newJob();
  await w.job.start(setup(writer, 'native'), ['writer.wasm', 'mem=1', 'rate=0', 'steps=1500'], {});
  w.job.run();
  while (!w.stdout().includes('filled')) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 200));
  await w.job.pause();
  assert.is(w.job.state, 'paused', 'the job ended before the pause landed');
  const snapshot = await w.job.snapshot();
  assert.ok(snapshot.length > 0);
  w.job.discard();
});

/** A WASI command that sleeps once for a minute in `poll_oneoff` (one relative clock), then ends. */
function sleeperModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t4 = b.type([ValType.i32, ValType.i32, ValType.i32, ValType.i32], [ValType.i32]);
  const poll = b.importFunc('wasi_snapshot_preview1', 'poll_oneoff', t4);
  const mem = b.memory(1);
  const u64 = (v: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  b.data({ mode: 'active', offset: constExpr.i32(0), bytes: [...u64(7n), 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, ...u64(60_000_000_000n), ...u64(0n), 0, 0, 0, 0, 0, 0, 0, 0] });
  const start = b.func(b.type([], []), [0x41, 0, 0x41, 0xc0, 0x00, 0x41, 1, 0x41, 0x80, 0x01, 0x10, poll, 0x1a, 0x0b]);
  b.export('_start', 'func', start);
  b.export('memory', 'memory', mem);
  return b.build();
}

for (const tier of ['interp', 'native'] as const) {
  s(`${tier}: a program asleep in a host call pauses at once, not when its sleep is over; resumed, it sleeps again`, async () => {
    // Before the pause flag woke sleeps (WasiOptions.wake), the pause waited out the
    // minute: a migration's final waited up to 10 ms for writer.wasm's 10 ms sleeps.
    const w = newJob();
    await w.job.start(setup(sleeperModule(), tier), ['sleeper.wasm'], {});
    w.job.run();
    await new Promise((r) => setTimeout(r, 100));
    const began = performance.now();
    await w.job.pause();
    assert.ok(performance.now() - began < 30_000, 'paused long before the minute was over');
    assert.is(w.job.state, 'paused');
    const snapshot = await w.job.snapshot();
    w.job.discard();
    const again = newJob();
    await again.job.restore(setup(sleeperModule(), tier), snapshot);
    again.job.run();
    await new Promise((r) => setTimeout(r, 100));
    await again.job.pause();
    assert.is(again.job.state, 'paused', 'the resumed program sleeps again (the call made again), it does not end');
    again.job.discard();
  });
}

s('a run sent while a pause is on its way wins: the job runs, and says so', async () => {
  // The lease pauses a replicated job and its check may run it again before the pause is
  // answered: the job then ran in its worker while it said "paused", and took no more checkpoints.
  const w = newJob();
  await w.job.start(setup(writer, 'native'), ['writer.wasm', 'mem=1', 'rate=0', 'steps=1500'], {});
  w.job.run();
  const pausing = w.job.pause();
  w.job.run();
  await pausing;
  assert.is(w.job.state, 'running');
  const before = w.stdout().length;
  while (w.stdout().length === before) await new Promise((r) => setTimeout(r, 10));
  await w.job.checkpoint(true);
  assert.is(w.job.state, 'running', 'a checkpoint does not change whether the job runs');
  const after = w.stdout().length;
  while (w.stdout().length === after) await new Promise((r) => setTimeout(r, 10));
  w.job.discard();
});

s('native: a 100,000-deep recursion as a job finishes with its output', async () => {
  const w = newJob();
  await w.job.start(setup(recursion, 'native'), ['recursion.wasm'], {});
  w.job.run();
  const job = await w.ended;
  assert.is(job.state, 'exited');
  assert.is(w.stdout(), 'depth 100000\nsum 214750756107840\nis_even(50001) = 0\n');
});

s('native: a job given the agent\'s rewrite of its module (cloned to the worker) runs on it, and its end says when each step came', async () => {
  const native = defaultEngines.native;
  const w = newJob();
  await w.job.start({ ...setup(recursion, 'native'), native: native.rewrites.rewrite(loadModule(recursion), native.options.rewrite) }, ['recursion.wasm'], {});
  w.job.run();
  const job = await w.ended;
  assert.is(job.state, 'exited');
  assert.is(w.stdout(), 'depth 100000\nsum 214750756107840\nis_even(50001) = 0\n');
  const steps = ['workerTookStart', 'workerCompiled', 'workerInstantiated', 'workerRan', 'workerEnded'].map((name) => job.stamps[name]);
  steps.forEach((at, i) => {
    assert.type(at, 'number', JSON.stringify(job.stamps));
    if (i > 0) assert.ok(at >= steps[i - 1], JSON.stringify(job.stamps));
  });
});

for (const tier of ['interp', 'native', 'auto'] as const) {
  s(`${tier}: a runaway recursion fails with the exhaustion trap`, async () => {
    const w = newJob();
    await w.job.start(setup(runawayModule(), tier), ['runaway.wasm'], {});
    w.job.run();
    const job = await w.ended;
    assert.is(job.state, 'failed');
    assert.is(job.status, 134);
    assert.match(job.error ?? '', /^exhausted: call stack exhausted/);
  });
}

s('a module that does not decode is a clear error, and no job runs', async () => {
  const w = newJob();
  try {
    await w.job.start(setup(ticker.subarray(0, 100), 'native'), ['ticker.wasm'], {});
    assert.unreachable('started');
  } catch (error) {
    assert.match((error as Error).message, /^p\.wasm: malformed module: /);
  }
  w.job.discard();
});

for (const tier of ['native', 'interp'] as const) {
  s(`${tier}: pre-copy rounds ${tier === 'native' ? 'are served at a safepoint, the program not unwound' : 'pause the program'}, and the output is that of an uninterrupted run`, async () => {
    // Held at a gate (a 2 ms sleep in a loop) before its last lines, so that it cannot end
    // under the rounds. Native: computing (about a second of it, not asleep at the gate)
    // while they come, since a sleeping program's rounds wake it and are served while it
    // awaits its sleep (WasiOptions.wake), not in place.
    const gate = `gate-rounds-${tier}`;
    const args = tier === 'native' ? ['lines=400', 'work=200000', `gate=/ctl/${gate}`, 'at=380'] : ['lines=60', 'work=1500', `gate=/ctl/${gate}`, 'at=30'];
    const want = tickerOutput(args);
    const w = newJob();
    await w.job.start(gated(ticker, tier), ['ticker.wasm', ...args], {});
    void w.job.run();
    while (!/^tick 5\//m.test(w.stdout())) await new Promise((r) => setTimeout(r, 5));
    await w.job.precopy(undefined);
    const inPlace: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      inPlace.push((await w.job.round()).inPlace === true);
    }
    await w.job.forget();
    writeFileSync(join(ctl, gate), '');
    const job = await w.ended;
    assert.is(job.state, 'exited');
    assert.is(w.stdout(), want.stdout);
    // The first round may come before the program runs again after `precopy` (which paused it).
    if (tier === 'native') assert.ok(inPlace.filter(Boolean).length >= 1, `rounds in place: ${inPlace}`);
    else assert.equal(inPlace.filter(Boolean), [], 'the interpreter pauses for every round');
  });
}

s('native: an arrival makes the resume clones its frames need as it runs and hands them on at its final; the next arrival runs on them', async () => {
  const gate = 'gate-clones';
  const args = ['lines=80', 'work=1500', `gate=/ctl/${gate}`, 'at=40'];
  const want = tickerOutput(args);
  const source = newJob();
  await source.job.start(gated(ticker, 'native'), ['ticker.wasm', ...args], {});
  void source.job.run();
  while (!/^tick 10\//m.test(source.stdout())) await new Promise((r) => setTimeout(r, 5));
  await source.job.precopy(undefined);
  const round = await source.job.round();
  const final = await source.job.final();
  const before = source.stdout();
  source.job.discard();
  /** A target of the handoff: the module, the rounds' memory (none here), then the final; `handed` collects what its worker hands on. */
  const arrive = async (clones: ProgramSetup['clones'], handed: SharedClones): Promise<Watched & { started: RunStarted }> => {
    const w = newJob(new OutputLog(), handed);
    const s = { ...gated(ticker, 'native'), ...(clones ? { clones } : {}) };
    await w.job.receive(s, undefined);
    await w.job.apply(round.deltas);
    await w.job.complete(s, final.snapshot, final.deltas, final.digests);
    const started = await w.job.run();
    assert.ok(started, 'the run was answered');
    return { ...w, started };
  };
  const firstHanded: SharedClones = [];
  const first = await arrive(undefined, firstHanded);
  // It runs on (its frames come back to native code as they come to the top), then leaves with a final.
  while (!/^tick 30\//m.test(before + first.stdout())) await new Promise((r) => setTimeout(r, 5));
  await first.job.precopy(undefined);
  await first.job.round();
  await first.job.final();
  // The clones come in a message of their own after the final's answer.
  for (let waited = 0; firstHanded.length === 0 && waited < 20_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
  first.job.discard();
  assert.ok(firstHanded.some(([, c]) => c !== null), 'the final handed on clones made as the job ran');
  const handedOn = [...first.started.clones, ...firstHanded];
  assert.ok(handedOn.length >= 2, `clones handed on: ${handedOn.length}`);
  // Which clones a lazily resumed stack needs depends on where its frames come to the
  // top, so the second arrival may still make some the first never needed: what is
  // checked is that it runs right on the clones it was given.
  const second = await arrive(handedOn, []);
  writeFileSync(join(ctl, gate), '');
  const job = await second.ended;
  assert.is(job.state, 'exited');
  assert.is(before + second.stdout(), want.stdout);
});

s('a target handed a package\'s buffer (not a copy of it) rebuilds the job from it, and the buffer leaves the main thread', async () => {
  const gate = 'gate-hand-over';
  const args = ['lines=60', 'work=1500', `gate=/ctl/${gate}`, 'at=40'];
  const want = tickerOutput(args);
  const source = newJob();
  await source.job.start(gated(ticker, 'interp'), ['ticker.wasm', ...args], {});
  void source.job.run();
  while (!/^tick 10\//m.test(source.stdout())) await new Promise((r) => setTimeout(r, 5));
  await source.job.precopy(undefined);
  const round = await source.job.round();
  const final = await source.job.final();
  const before = source.stdout();
  source.job.discard();
  // As they arrive: the deltas and the snapshot are views of the one blob that carried them.
  const roundPkg = decodeRound(encodeRound({ deltas: round.deltas, log: { floor: 0, entries: [] } }));
  const finalPkg = decodeFinal(encodeFinal({ deltas: final.deltas, log: { floor: 0, entries: [] }, snapshot: final.snapshot }));
  const target = newJob();
  const s2 = gated(ticker, 'interp');
  await target.job.receive(s2, undefined);
  await target.job.apply(roundPkg.deltas, true);
  await target.job.complete(s2, finalPkg.snapshot, finalPkg.deltas, final.digests, true);
  for (const d of [...roundPkg.deltas, finalPkg.snapshot]) assert.is(d.buffer.byteLength, 0, 'the buffer went to the worker');
  void target.job.run();
  writeFileSync(join(ctl, gate), '');
  const job = await target.ended;
  assert.is(job.state, 'exited');
  assert.is(before + target.stdout(), want.stdout);
});

s.run();
