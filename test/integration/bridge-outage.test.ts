/**
 * One owner across a bridge outage (docs/protocol.md, "The lease confirmed by the
 * standbys"): a replicated job's owner on site 1, its standby on site 2, each site's
 * mosquitto bridged to a central one, site 2's bridge through a TCP link the test cuts.
 * Nobody is gone, no last will fires; the standby stops hearing the owner's heartbeats
 * and, after 3 periods and its grace, takes the job over from its checkpoint. Before the
 * standby lease the owner ran on meanwhile: two copies until the bridge came back.
 *
 * What is checked, with no clock in any assertion: the job appends each step it takes
 * to one file that both agents' copies write (`log=/ctl/...`, the same host directory),
 * so the file holds the steps in the order they ran, whichever copy ran them. With one
 * copy at a time it is the owner's steps 1..N, then the standby's from its checkpoint,
 * K+1.., with K <= N: one step back, none interleaved. Two copies running at once would
 * interleave their steps. Then: the owner paused for want of the standby's
 * confirmation, the standby took over, the owner learnt it and stopped once the bridge
 * was back, and the follower on the central broker printed the uninterrupted run's
 * output. Skipped, visibly, without mosquitto.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient } from '../../src/agent/index.ts';
import { bridged, bridgeTo, CuttableLink } from '../helpers/bridges.ts';
import { agentProc, mosquittoBroker, mosquittoPath, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { exitOf, stateWhere } from '../helpers/follower.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-bridge-outage-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const haveMosquitto = mosquittoPath() !== undefined;

/**
 * The steps in `text` (one `tick N` a line) as runs of consecutive steps. One copy at a
 * time gives one run, or two when a standby took over from an earlier step.
 */
export function stepRuns(text: string): { from: number; to: number }[] {
  const runs: { from: number; to: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^tick (\d+)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    const last = runs.at(-1);
    if (last && n === last.to + 1) last.to = n;
    else runs.push({ from: n, to: n });
  }
  return runs;
}

const s = suite('a bridge outage under a replicated job');
let central: BrokerProc;
let link: CuttableLink;
let site1: BrokerProc;
let site2: BrokerProc;
const started: Proc[] = [];

s.before(async () => {
  if (!haveMosquitto) return;
  central = await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 400);
  link = await CuttableLink.open(central.port);
  site1 = await mosquittoBroker(work, bridgeTo('site1', central.port), 400);
  site2 = await mosquittoBroker(work, bridgeTo('site2', link.port), 400);
  await Promise.all([bridged(site1, central, 'up1'), bridged(site2, central, 'up2'), bridged(central, site1, 'down1'), bridged(central, site2, 'down2')]);
});

s.after(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  await link?.close();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

s('the standby across the cut takes the job over only once the owner paused: never two copies, and the output is the uninterrupted run\'s', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the bridge outage test did not run');
    return;
  }
  const flags = ['--dir', `${ctl}::/ctl`, '--takeover-after', '1'];
  const [owner, standby] = await Promise.all([agentProc('oa', site1.url, flags), agentProc('ob', site2.url, flags)]);
  started.push(owner, standby);
  const job = 'outage';
  const progress = join(ctl, `${job}.steps`);
  // A step every 25 ms or so, held before its last lines until the test opens the gate:
  // the job is still running, on one side or the other, all through the outage.
  const shown = ['lines=800', 'work=3000', 'mem=1', `gate=/ctl/${job}`, 'at=790', 'status=7'];
  const args = [...shown, `log=/ctl/${job}.steps`, 'sleep=25'];
  const expected = tickerOutput(shown);
  const run = wasmigProc(['run', '--on', 'oa', '--replicas', '1', '--job', job, '--lost-after', '120', '--broker', central.url, tickerPath, ...args], { label: 'run --replicas 1' });
  started.push(run);
  const client = await FleetClient.connect({ connection: { url: central.url } });
  const logs = (): string => [run, owner, standby].map((p) => `--- ${p.label}:\n${p.err.slice(-4000)}`).join('\n');
  const fail = (error: Error): never => { throw new Error(`${error.message}\n${logs()}`); };
  try {
    // The standby holds a checkpoint and the owner's lease is confirmed: the job runs normally.
    await stateWhere(client, job, (st) => (st.checkpoint?.number ?? 0) >= 2 && st.agent === 'oa', 90_000).catch(fail);
    await run.waitFor(/tick 3\//, 'out', 60_000).catch(fail);

    link.cut();
    // The owner cannot hear its standby: it pauses the job first.
    await owner.waitFor(new RegExp(`job ${job}: standby ob has not confirmed this agent's lease`), 'err', 60_000).catch(fail);
    // The standby misses the owner's heartbeats and takes the job over from its checkpoint.
    await standby.waitFor(new RegExp(`job ${job}: taking it over from oa at epoch \\d+`), 'err', 60_000).catch(fail);
    await standby.waitFor(new RegExp(`job ${job} now runs here`), 'err', 60_000).catch(fail);
    // Some steps on the standby's side while the bridge is still down.
    const before = stepRuns(readFileSync(progress, 'utf8'));
    const after = async (): Promise<void> => {
      for (let i = 0; i < 600; i++) {
        const runs = stepRuns(readFileSync(progress, 'utf8'));
        if (runs.length >= 2 && runs[runs.length - 1].to >= runs[runs.length - 1].from + 20) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the standby's copy did not take 20 steps; steps so far: ${JSON.stringify(stepRuns(readFileSync(progress, 'utf8')))}`);
    };
    await after().catch(fail);
    assert.ok(before.length >= 1, 'the owner took steps before the cut');

    link.restore();
    // The owner hears of the standby's copy (its answer to the lease, or the newer state) and stops.
    await owner.waitFor(new RegExp(`job ${job}: a newer copy \\(epoch \\d+\\) runs on ob; this copy \\(epoch 1\\) stops`), 'err', 60_000).catch(fail);
    await stateWhere(client, job, (st) => st.agent === 'ob' && st.state === 'running', 60_000).catch(fail);

    writeFileSync(join(ctl, job), '');
    assert.is(await exitOf(run, 120_000), 7, `${run.err}\n${logs()}`);
    assert.is(run.out, expected.stdout, 'the output is the uninterrupted run\'s: nothing lost, nothing twice');

    const runs = stepRuns(readFileSync(progress, 'utf8'));
    console.log(`\n  steps: ${runs.map((r) => `${r.from}..${r.to}`).join(', then ')}`);
    // One copy at a time: the owner's steps from 1, then the standby's from its checkpoint to the end.
    assert.is(runs.length, 2, `the steps interleave: two copies ran at once (${JSON.stringify(runs.slice(0, 12))}${runs.length > 12 ? '...' : ''})\n${logs()}`);
    assert.is(runs[0].from, 1);
    assert.ok(runs[1].from <= runs[0].to + 1, `the standby went on from step ${runs[1].from}, after the owner's last, ${runs[0].to}`);
    assert.is(runs[1].to, 800);
    // Nothing of the owner's copy after its pause: its end, and its output past the checkpoint, were never shown.
    assert.not.match(owner.err, new RegExp(`job ${job} exited`));
  } finally {
    await client.close();
    if (run.alive) await run.stop('SIGKILL');
  }
});

s.run();
