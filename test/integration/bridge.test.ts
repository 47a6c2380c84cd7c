/**
 * A fleet bigger than one broker: two site mosquittos, each bridged to a central one
 * (`topic wasmig/# both 1`, as docs/brokers.md says), all on loopback. An agent on each
 * site, every command on the central broker: a job starts on site 1, migrates to site
 * 2 while a client follows it, a target that dies mid-transfer leaves it running, `ps`
 * lists it right after each step, its output arrives complete and once, and a killed
 * agent's job is reported lost across the bridge. Then a replicated job fails over
 * across the bridge: its owner on site 1 is killed, its standby on site 2 takes it over,
 * and the follower on the central broker sees the uninterrupted run's output.
 * Skipped, visibly, without mosquitto.
 *
 * Every wait is bounded and says what it waited for: an agent that does not come online
 * (a site broker gone, a bridge down) fails the test with its log instead of hanging it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient } from '../../src/agent/index.ts';
import { bridged, bridgeTo } from '../helpers/bridges.ts';
import { agentProc, cli, mosquittoBroker, mosquittoPath, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { exitOf, stateWhere, within } from '../helpers/follower.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-bridge-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const DIR = ['--dir', `${ctl}::/ctl`];
const haveMosquitto = mosquittoPath() !== undefined;

async function psJobs(url: string): Promise<{ id: string; agent: string; state: string; lost?: string }[]> {
  const r = await cli(['ps', '--json', '--broker', url]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; agent: string; state: string; lost?: string }[];
}

const bridge = suite('fleet across bridged mosquittos');
let central: BrokerProc;
let site1: BrokerProc;
let site2: BrokerProc;

bridge.before(async () => {
  if (!haveMosquitto) return;
  central = await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 300);
  site1 = await mosquittoBroker(work, bridgeTo('site1', central.port), 300);
  site2 = await mosquittoBroker(work, bridgeTo('site2', central.port), 300);
  await Promise.all([bridged(site1, central, 'up1'), bridged(site2, central, 'up2'), bridged(central, site1, 'down1'), bridged(central, site2, 'down2')]);
});

bridge.after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** The agents a test started, stopped after it (the next test chooses standbys among those online). */
const started: Proc[] = [];

async function agent(name: string, site: BrokerProc, args: string[] = [], env: Record<string, string> = {}): Promise<Proc> {
  const p = await agentProc(name, site.url, [...DIR, ...args], env);
  started.push(p);
  return p;
}

bridge.after.each(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

bridge('start, migrate across sites, a failed handoff and a lost agent, all seen from the central broker', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the bridged-broker fleet test did not run');
    return;
  }
  await Promise.all([agent('a', site1), agent('b', site2)]);
  const job = 'bridged';
  const args = ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7', 'mem=2'];
  const expected = tickerOutput(args);
  const client = wasmigProc(['run', '--on', 'a', '--job', job, '--broker', central.url, tickerPath, ...args], { label: 'client' });
  await client.waitFor(/tick 3\//, 'out');
  let listed = (await psJobs(central.url)).find((j) => j.id === job);
  assert.is(listed?.agent, 'a', 'ps on the central broker lists the job on site 1');

  // A target on site 2 that dies mid-transfer: the job goes on at a.
  const c = await agent('c', site2, [], { WASMIG_FAULT: 'die-on-chunk:2' });
  let r = await cli(['migrate', job, '--to', 'c', '--broker', central.url]);
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, /agent c went offline during the handoff; the job goes on at a/);
  assert.is(await c.exited, 137);
  listed = (await psJobs(central.url)).find((j) => j.id === job);
  assert.is(listed?.agent, 'a');
  assert.is(listed?.state, 'running');

  r = await cli(['migrate', job, '--to', 'b', '--broker', central.url]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^moved job ${job} from a to b`));
  listed = (await psJobs(central.url)).find((j) => j.id === job);
  assert.is(listed?.agent, 'b', 'ps lists the job on site 2 right after the move');
  assert.is(listed?.state, 'running');

  writeFileSync(join(ctl, job), '');
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout, 'the output is complete and nothing twice');
  assert.match(client.err, `job ${job} moved to agent b`);

  // An agent on site 1 killed mid-job: its last will crosses the bridge, the job is lost.
  const k = await agent('k', site1);
  const orphan = 'orphan';
  const follower = wasmigProc(['run', '--on', 'k', '--job', orphan, '--lost-after', '2', '--broker', central.url, tickerPath, 'lines=40', 'work=3000', `gate=/ctl/${orphan}`, 'at=30'], { label: 'orphan' });
  await follower.waitFor(/tick 3\//, 'out');
  assert.is(await k.stop('SIGKILL'), 137);
  assert.is(await follower.exited, 69, follower.err);
  listed = (await psJobs(central.url)).find((j) => j.id === orphan);
  assert.is(listed?.lost, 'agent k is offline');
});

bridge('failover across the bridge: the owner on site 1 killed, its standby on site 2 takes the job over; ps shows it there, the output is exact', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the bridged failover test did not run');
    return;
  }
  const takeover = ['--takeover-after', '1'];
  const [owner, standby] = await Promise.all([agent('fa', site1, takeover), agent('fb', site2, takeover)]);
  const job = 'bridged-failover';
  const args = ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7', 'mem=2'];
  const expected = tickerOutput(args);
  const run = wasmigProc(['run', '--on', 'fa', '--replicas', '1', '--job', job, '--lost-after', '60', '--broker', central.url, tickerPath, ...args], { label: 'run --replicas 1' });
  const client = await FleetClient.connect({ connection: { url: central.url } });
  const logs = (): string => [run, owner, standby].map((p) => `--- ${p.label}:\n${p.err.slice(-3000)}`).join('\n');
  try {
    // The standby on the other site holds a checkpoint, and output is shown (released by it).
    const held = await stateWhere(client, job, (st) => (st.checkpoint?.number ?? 0) >= 1 && st.agent === 'fa').catch((error: Error) => { throw new Error(`${error.message}\n${logs()}`); });
    assert.equal(held.standbys, ['fb'], 'the standby is the agent on site 2');
    await run.waitFor(/tick 3\//, 'out', 60_000);
    // kill -9: site 1's mosquitto publishes the owner's last will, which crosses the bridge.
    assert.is(await owner.stop('SIGKILL'), 137);
    await standby.waitFor(new RegExp(`job ${job} now runs here`), 'err', 60_000);
    assert.match(standby.err, new RegExp(`job ${job}: taking it over from fa at epoch \\d+, from checkpoint \\d+`));
    // ps on the central broker shows the new owner once its state has crossed the bridge.
    const moved = await within((async () => {
      for (;;) {
        const listed = (await psJobs(central.url)).find((j) => j.id === job);
        if (listed?.agent === 'fb') return listed;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })(), 30_000, `ps on the central broker listing ${job} on fb`);
    assert.is(moved.state, 'running');
    writeFileSync(join(ctl, job), '');
    assert.is(await exitOf(run), 7, `${run.err}\n${logs()}`);
    assert.is(run.out, expected.stdout, 'the output is the uninterrupted run\'s: nothing lost, nothing twice');
    const end = await stateWhere(client, job, (st) => st.state === 'exited');
    assert.is(end.agent, 'fb');
    assert.ok(end.epoch >= 2, `epoch ${end.epoch}`);
  } finally {
    await client.close();
    if (run.alive) await run.stop('SIGKILL');
  }
});

bridge.run();
