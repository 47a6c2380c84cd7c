/**
 * One owner, always (issue 14): two migrations of one running job, to two different
 * targets, sent at the same moment, ten rounds. Real agent processes (a, b, c) on the
 * embedded broker; the clients live in this process, connected beforehand, so that both
 * `migrate` requests leave together (two CLI processes would start up a few hundred ms
 * apart, and the first handoff would be over before the second arrives).
 *
 * Each round: exactly one migration succeeds, the other is refused with the reason; the
 * broker (what `ps` shows) lists the job once, on the winner; only the winner ever ran a
 * copy (the loser never logged one); and the job's output is the uninterrupted run's.
 * Output alone could not show a fork: both copies of a deterministic job print the same
 * lines with the same sequence numbers, and the follower keeps one of each, so the test
 * reads the agents' logs too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient } from '../../src/agent/index.ts';
import type { MigrationResult } from '../../src/agent/index.ts';
import { MigrationError } from '../../src/errors/index.ts';
import { agentProc, embeddedBroker, stopAll } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const ROUNDS = 10;
const work = mkdtempSync(join(tmpdir(), 'wasmig-one-owner-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const DIR = ['--dir', `${ctl}::/ctl`];

const s = suite('one owner: concurrent migrations of one job');
let broker: BrokerProc;
const agents = new Map<string, Proc>();
let starter: FleetClient;
let first: FleetClient;
let second: FleetClient;

s.before(async () => {
  broker = await embeddedBroker();
  const procs = await Promise.all(['a', 'b', 'c'].map((name) => agentProc(name, broker.url, DIR)));
  ['a', 'b', 'c'].forEach((name, i) => agents.set(name, procs[i]));
  const connection = { url: broker.url };
  [starter, first, second] = await Promise.all([FleetClient.connect({ connection }), FleetClient.connect({ connection }), FleetClient.connect({ connection })]);
});

s.after(async () => {
  await Promise.all([starter, first, second].map((c) => c?.close()));
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** Lines of an agent's log about one job (the log names jobs as `job ID`). */
function about(agent: string, job: string): string[] {
  return (agents.get(agent)?.err ?? '').split('\n').filter((l) => l.includes(`job ${job} `));
}

s(`${ROUNDS} rounds: exactly one of two concurrent migrations wins, no second copy ever runs`, async () => {
  const module = readFileSync(tickerPath);
  for (let round = 1; round <= ROUNDS; round++) {
    const job = `race${round}`;
    const args = ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7'];
    const expected = tickerOutput(args);
    await starter.start({ agent: 'a', module, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job });
    let out = '';
    let err = '';
    let printed!: () => void;
    const started = new Promise<void>((resolve) => { printed = resolve; });
    const followed = starter.follow(job, {
      onOutput: (c) => {
        if (c.stream === 1) out += Buffer.from(c.data).toString(); else err += Buffer.from(c.data).toString();
        if (out.includes('tick 3/')) printed();
      },
    });
    followed.catch(() => {}); // a failed round closes the client under it
    await started;

    // Both requests leave in the same tick.
    const outcomes = await Promise.allSettled([first.migrate(job, 'b'), second.migrate(job, 'c')]);
    const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
    assert.is(won.length, 1, `round ${round}: ${won.length} migrations succeeded (${lost.map((e) => e.message).join('; ')})`);
    const winner = (won[0] as MigrationResult).to;
    const loser = winner === 'b' ? 'c' : 'b';
    assert.ok(lost[0] instanceof MigrationError, String(lost[0]));
    assert.match(lost[0].message, new RegExp(`^job ${job} is already being moved to ${winner}; wait for that migration to end, or cancel it \\(wasmig migrate ${job} --cancel\\)$`));

    // What `ps` shows: the job once, on the winner, running.
    const listed = (await starter.list()).jobs.filter((j) => j.job === job);
    assert.is(listed.length, 1);
    assert.is(listed[0].agent, winner);
    assert.is(listed[0].state, 'running');

    writeFileSync(join(ctl, job), '');
    const final = await followed;
    assert.is(final.state, 'exited');
    assert.is(final.status, 7);
    assert.is(final.agent, winner);
    assert.is(out, expected.stdout, `round ${round}: stdout`);
    assert.is(err, expected.stderr, `round ${round}: stderr`);
    await agents.get(winner)?.waitFor(new RegExp(`job ${job} exited with status 7`), 'err');
    // The loser was never asked: no restored copy, let alone a running one.
    assert.equal(about(loser, job), [], `round ${round}: agent ${loser} took part:\n${about(loser, job).join('\n')}`);
    assert.is(about(winner, job).filter((l) => / now runs here /.test(l)).length, 1);
    assert.is(about('a', job).filter((l) => /exited with status/.test(l)).length, 0);
  }
});

s.run();
