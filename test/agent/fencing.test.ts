/** The fencing rules an agent applies to a job's retained state (src/agent/fencing.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { committedHere, compareCopies, giveUpNote, judgeJobState, stopCopyNote, supersedes } from '../../src/agent/fencing.ts';
import type { FenceVerdict, LocalCopies, SeenState } from '../../src/agent/fencing.ts';

const self = { name: 'b', instance: 'i-b' };
const NOTHING: FenceVerdict = { stop: false, dropIncoming: false, reassert: false };

const cases: [string, SeenState, LocalCopies, Partial<FenceVerdict>][] = [
  ['a newer epoch elsewhere stops our copy', { agent: 'c', instance: 'i-c', epoch: 3 }, { held: { epoch: 2, finished: false } }, { stop: true }],
  ['...but not a finished one', { agent: 'c', instance: 'i-c', epoch: 3 }, { held: { epoch: 2, finished: true } }, {}],
  ['...nor while we hand it to that very agent (the commit arriving)', { agent: 'c', instance: 'i-c', epoch: 3 }, { held: { epoch: 2, finished: false, migratingTo: 'c' } }, {}],
  ['...but yes while we hand it to another one', { agent: 'c', instance: 'i-c', epoch: 3 }, { held: { epoch: 2, finished: false, migratingTo: 'd' } }, { stop: true }],
  ['an older epoch over ours: say ours again', { agent: 'a', instance: 'i-a', epoch: 1 }, { held: { epoch: 2, finished: false } }, { reassert: true }],
  ['our own older state replayed: say ours again', { agent: 'b', instance: 'i-b', epoch: 1 }, { held: { epoch: 2, finished: false } }, { reassert: true }],
  ['our own current state: nothing', { agent: 'b', instance: 'i-b', epoch: 2 }, { held: { epoch: 2, finished: false } }, {}],
  ['one epoch on two agents: the higher name wins', { agent: 'c', instance: 'i-c', epoch: 2 }, { held: { epoch: 2, finished: false } }, { stop: true }],
  ['one epoch on two agents: the lower name gives way', { agent: 'a', instance: 'i-a', epoch: 2 }, { held: { epoch: 2, finished: false } }, { reassert: true }],
  ['a newer epoch overtakes a restored copy', { agent: 'c', instance: 'i-c', epoch: 4 }, { incomingEpoch: 3 }, { dropIncoming: true }],
  ['the source\'s own state does not', { agent: 'a', instance: 'i-a', epoch: 2 }, { incomingEpoch: 3 }, {}],
];

for (const [name, seen, local, expected] of cases) {
  test(name, () => {
    assert.equal(judgeJobState(seen, self, local), { ...NOTHING, ...expected });
  });
}

test('a copy fenced while paused for its handoff to the newer copy\'s agent is not logged as a second copy', () => {
  // A standby's lease answer can name the handoff's commit (the target at the new epoch)
  // before the handoff's own answer comes: the source's copy was paused for the final,
  // nothing ran twice. The fault matrix reads "a newer copy" as two copies at once.
  const job = { id: 'j', epoch: 1 };
  const paused = stopCopyNote(job, { agent: 't', epoch: 2 }, 't');
  assert.is(paused, 'job j: this copy (epoch 1), paused for its handoff to t, stops: the job runs there at epoch 2');
  assert.not.match(paused, /a newer copy/);
  // Running (or in pre-copy rounds), or paused for a handoff to another agent: it ran beside the newer copy.
  for (const pausedFor of [undefined, 'u']) {
    assert.is(stopCopyNote(job, { agent: 't', epoch: 2 }, pausedFor), 'job j: a newer copy (epoch 2) runs on t; this copy (epoch 1) stops', String(pausedFor));
  }
});

test('a handoff that gives up says the job goes on here, unless a newer copy stopped this one first', () => {
  const job = { id: 'j', epoch: 3 };
  assert.equal(giveUpNote(job, 't', 's', 'agent t refused the job', { newEpoch: false }), {
    log: 'job j: migration to t failed: agent t refused the job; the job goes on here',
    error: 'agent t refused the job; the job goes on at s',
  });
  assert.is(giveUpNote(job, 't', 's', 'no answer', { newEpoch: true }).log, 'job j: migration to t failed: no answer; the job goes on here (epoch 3)');
  const stopped = giveUpNote(job, 't', 's', 'no answer', { newEpoch: true, stoppedBecause: 'a newer copy runs on u' });
  assert.equal(stopped, {
    log: 'job j: migration to t failed: no answer; this copy had already stopped (a newer copy runs on u)',
    error: 'no answer; the copy at s had already stopped (a newer copy runs on u)',
  });
  assert.not.match(stopped.log + stopped.error, /goes on/);
});

test('an older state never replaces a newer one', () => {
  assert.ok(supersedes({ epoch: 3 }, undefined));
  assert.ok(supersedes({ epoch: 3 }, { epoch: 3 }));
  assert.not.ok(supersedes({ epoch: 2 }, { epoch: 3 }));
});

test('a repeated commit took effect when the job is here at that epoch or later, or left at a later one', () => {
  assert.ok(committedHere(2, { epoch: 2 }, undefined));
  assert.ok(committedHere(2, { epoch: 4 }, undefined));
  assert.ok(committedHere(2, undefined, { epoch: 3 }));
  assert.not.ok(committedHere(2, undefined, undefined));
  assert.not.ok(committedHere(3, { epoch: 2 }, undefined));
  assert.not.ok(committedHere(3, undefined, { epoch: 3 }));
  assert.ok(compareCopies({ agent: 'a', epoch: 3 }, { agent: 'z', epoch: 2 }) > 0);
});

test.run();
