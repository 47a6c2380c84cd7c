/**
 * A job's in-memory directories over the fleet (`mem-dir-seed.ts`): a seed survives its
 * JSON form exactly and a bad one is one line; then, end to end on Node agents, `wasmig
 * run --on a --mem-dir /data=FOLDER` starts notes.c there with the folder's files, agent
 * b (with a host directory of its own that the job does not need) takes it in a live
 * migration, then agent c, a standby checkpointing it all along (--replicas 1); c is
 * killed and the standby takes the job over from its last checkpoint, files and all, and
 * the job's output, read with `wasmig attach`, equals an uninterrupted run's. The job
 * holds mid-run at a gate until all that is done, so a loaded machine cannot end it
 * first. An agent whose
 * memory cap is below a job's directory bound refuses it in one line. Through mosquitto
 * with a packet limit, a seed within it starts and one over it is refused in one line by
 * the client (the seed rides in the start request).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memDirOptionsOf, seedOf, stateOfSeed, withoutSeeds } from '../../src/agent/mem-dir-seed.ts';
import { loadMemDir } from '../../src/cli/mem-dir.ts';
import { WasmigError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { agentProc, cli, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll } from '../helpers/fleet.ts';
import { TestRequirement } from '../helpers/test-data.ts';
import { repoRoot } from '../helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-mem-dir-job-'));
const notesPath = resolve(repoRoot, 'test/programs/notes.wasm');
test.after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

function folder(): string {
  const dir = join(work, 'seed');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'seed.txt'), 'planted before the start\n');
  writeFileSync(join(dir, 'sub', 'bin'), new Uint8Array(3000).map((_, i) => (i * 7) & 0xff));
  return dir;
}

test('a seed crosses JSON exactly; a bad one is one line naming the field', () => {
  const state = loadMemDir(folder(), 1 << 20, 'seed');
  const json = JSON.parse(JSON.stringify(seedOf(state))) as unknown;
  assert.equal(stateOfSeed(json, 'spec.memDirs[0].seed'), state);
  assert.equal(memDirOptionsOf([{ guest: '/d', maxBytes: 9, seed: seedOf(state) }])[0]?.files, state);
  assert.equal(withoutSeeds([{ guest: '/d', maxBytes: 9, seed: seedOf(state) }]), [{ guest: '/d', maxBytes: 9 }]);
  const spoiled = (f: (s: { nodes: Record<string, unknown>[] }) => void): unknown => {
    const s = JSON.parse(JSON.stringify(seedOf(state))) as { nodes: Record<string, unknown>[] };
    f(s);
    return s;
  };
  const oneLine = (re: RegExp) => (e: Error) => e instanceof WasmigError && e.code === 'ERR_SPEC' && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => stateOfSeed(spoiled((s) => { s.nodes[1]!['data'] = '%%%'; }), 'seed'), oneLine(/seed\.nodes\[1\]\.data is not base64/));
  assert.throws(() => stateOfSeed(spoiled((s) => { s.nodes[1]!['mtim'] = -1; }), 'seed'), oneLine(/seed\.nodes\[1\]\.mtim is not a decimal time/));
  assert.throws(() => stateOfSeed(spoiled((s) => { (s.nodes[0]!['entries'] as [string, number][])[0]![0] = '..'; }), 'seed'), oneLine(/is not a file name/));
  assert.throws(() => stateOfSeed('x', 'seed'), oneLine(/seed is not an object with nodes/));
});

test('run --on a --mem-dir --replicas 1: the job moves a -> b -> c with its files, c dies, the standby takes over; output as uninterrupted', async () => {
  const dir = folder();
  // The job holds before note 150 until the test opens its gate (notes' gate=PATH), after
  // both moves, a checkpoint from c and c's death: a fixed-length run could end first on a
  // loaded machine. The gate's line goes to stderr, so stdout is an ungated run's.
  const ctl = join(work, 'ctl');
  mkdirSync(ctl);
  const ctlDir = ['--dir', `${ctl}::/ctl`];
  const args = ['lines=300', 'work=200', 'sleep=10', 'gate=/ctl/notes', 'at=150'];
  const out: Uint8Array[] = [];
  const whole = Program.instantiate(loadModule(readFileSync(notesPath)), {
    // Its output depends neither on the sleeps nor on the gate: neither here.
    args: ['notes.wasm', ...args.filter((a) => !/^(sleep|gate|at)=/.test(a))], env: {}, memDirs: [{ guest: '/data', files: loadMemDir(dir, 16 << 20, 'seed') }], stdout: (d) => { out.push(d); }, stderr: () => {},
  });
  whole.start('_start');
  while (whole.run().kind === 'paused') { /* to the end */ }
  whole.wasi.close();
  const expected = Buffer.concat(out).toString();

  const broker = await embeddedBroker();
  const hostDir = join(work, 'b-dir');
  mkdirSync(hostDir);
  const agents = await Promise.all([
    agentProc('a', broker.url, ctlDir), agentProc('b', broker.url, [...ctlDir, '--dir', `${hostDir}::/b-only`]), agentProc('c', broker.url, ctlDir), agentProc('d', broker.url, ctlDir),
  ]);
  const started = await cli(['run', '--on', 'a', '--detach', '--job', 'notes', '--mem-dir', `/data=${dir}`, '--replicas', '1', '--broker', broker.url, notesPath, ...args]);
  assert.is(started.status, 0, started.stderr);
  const toB = await cli(['migrate', 'notes', '--to', 'b', '--broker', broker.url]);
  assert.is(toB.status, 0, toB.stderr);
  const toC = await cli(['migrate', 'notes', '--to', 'c', '--broker', broker.url]);
  assert.is(toC.status, 0, toC.stderr);
  // A checkpoint from c held by the standby (its files in it), then c is gone. The
  // deadline is the clock's: each `ps` is a process of its own, seconds on a loaded machine.
  for (const deadline = Date.now() + 120_000; ;) {
    const jobs = JSON.parse((await cli(['ps', '--json', '--broker', broker.url])).stdout) as { id: string; agent: string; checkpoint?: { number: number } }[];
    const job = jobs.find((j) => j.id === 'notes');
    if (job?.agent === 'c' && (job.checkpoint?.number ?? 0) >= 2) break;
    if (Date.now() > deadline) throw new Error(`no checkpoint from c: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.is(await agents[2]!.stop('SIGKILL'), 137);
  // An agent whose memory cap is below the directory's bound refuses the job in one line.
  await agentProc('small', broker.url, ['--max-memory', '8M']);
  const refused = await cli(['run', '--on', 'small', '--detach', '--mem-dir', '/big', '--mem-dir-max', '9M', '--broker', broker.url, notesPath]);
  assert.is.not(refused.status, 0);
  assert.match(refused.stderr, /the job's in-memory directories may hold 9437184 bytes of files, agent small allows 8388608 \(wasmig agent --max-memory\)/);
  // The standby took the job over from c's checkpoint while it was still held; then it may end.
  const takeover = /job notes: taking it over from c at epoch \d+, from checkpoint \d+/;
  await Promise.any(agents.filter((_, i) => i !== 2).map((p) => p.waitFor(takeover, 'err', 120_000)));
  writeFileSync(join(ctl, 'notes'), '');
  const output = await cli(['attach', 'notes', '--broker', broker.url]);
  assert.is(output.status, 0, output.stderr);
  assert.match(output.stdout, /^seed seed\.txt 25 bytes/m);
  assert.is(output.stdout, expected);
});

const mosquitto = new TestRequirement('mosquitto', 'apt-get install -y mosquitto', () => mosquittoPath() !== undefined);
mosquitto.register(test, 'through mosquitto with max_packet_size: a seed within it starts, one over it is refused in one line', async () => {
  const broker = await mosquittoBroker(work, ['allow_anonymous true', 'max_packet_size 200000'], 60);
  await agentProc('m', broker.url);
  const small = join(work, 'small');
  mkdirSync(small);
  writeFileSync(join(small, 'seed.txt'), 'planted before the start\n');
  const ok = await cli(['run', '--on', 'm', '--mem-dir', `/data=${small}`, '--broker', broker.url, notesPath, 'lines=3', 'work=10']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^seed seed\.txt 25 bytes/m);
  const big = join(work, 'big');
  mkdirSync(big);
  writeFileSync(join(big, 'blob'), new Uint8Array(300_000));
  const refused = await cli(['run', '--on', 'm', '--mem-dir', `/data=${big}`, '--broker', broker.url, notesPath]);
  assert.is.not(refused.status, 0);
  assert.match(refused.stderr, /^wasmig: the in-memory directories' content takes \d+ bytes in the start request, more than the broker's packet limit of 200000 allows$/m);
  await stopAll();
});

test.run();
