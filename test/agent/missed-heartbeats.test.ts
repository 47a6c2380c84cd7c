import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MissedHeartbeats } from '../../src/agent/missed-heartbeats.ts';

const s = suite('missed heartbeats: which periods count against the owner');
const P = 1000;

/**
 * Drives a counter through time in quarter periods, as the standby's timer does.
 * `connection(t)` is the standby's connection number at t (undefined: cut off),
 * `others(t)` whether another heartbeat (a third agent's, or the standby's own) arrives
 * at t, `owner(t)` whether the owner's does. Returns when the owner became gone, if it did.
 */
function drive(until: number, world: { connection: (t: number) => number | undefined; others: (t: number) => boolean; owner: (t: number) => boolean }): number | undefined {
  const counter = new MissedHeartbeats(3);
  let otherAt = -Infinity;
  counter.ownerBeat(0, P, world.connection(0) ?? -1);
  for (let t = P / 4; t <= until; t += P / 4) {
    const connection = world.connection(t);
    if (connection !== undefined && world.others(t)) otherAt = t;
    if (connection !== undefined && world.owner(t)) counter.ownerBeat(t, P, connection);
    if (counter.check(t, connection, otherAt)) return t;
  }
  return undefined;
}

const onBeat = (t: number): boolean => t % P === 0;

s('an owner that beats is never gone, even with its beats arriving a little out of phase', () => {
  assert.is(drive(60 * P, { connection: () => 1, others: onBeat, owner: (t) => t % P === P / 2 }), undefined);
});

s('an owner that stops beating while the others go on is gone after 3 periods', () => {
  const gone = drive(60 * P, { connection: () => 1, others: onBeat, owner: (t) => onBeat(t) && t < 10 * P });
  assert.ok(gone !== undefined && gone >= 12 * P && gone <= 14 * P, `gone at ${gone}`);
});

s('two heartbeats lost in a row move nothing', () => {
  const lost = new Set([10 * P, 11 * P]);
  assert.is(drive(60 * P, { connection: () => 1, others: onBeat, owner: (t) => onBeat(t) && !lost.has(t) }), undefined);
});

s('a broker restart: periods cut off do not count, and the count starts again at the reconnection', () => {
  // The broker is gone from 10 to 16 periods; the standby is back at 16, the owner only at 19.5:
  // 3.5 periods late, which the old rule (a timer from the owner's last heartbeat, rearmed
  // while cut off) took for a stuck owner, at the standby's first check after reconnecting.
  const connection = (t: number): number | undefined => (t < 10 * P ? 1 : t < 16 * P ? undefined : 2);
  const owner = (t: number): boolean => onBeat(t - P / 2) && (t < 10 * P || t >= 19.5 * P);
  assert.is(drive(60 * P, { connection, others: onBeat, owner }), undefined);
  // An owner that never comes back is gone 3 full periods after the standby's reconnection.
  const gone = drive(60 * P, { connection, others: onBeat, owner: (t) => onBeat(t) && t < 10 * P });
  assert.ok(gone !== undefined && gone >= 19 * P && gone <= 20 * P, `gone at ${gone}`);
});

s('a broker that delivers nothing (stalled): its silence is not the owner\'s', () => {
  // Connected all along, but from 10 periods on no heartbeat of anybody arrives.
  const quiet = (t: number): boolean => onBeat(t) && t < 10 * P;
  assert.is(drive(60 * P, { connection: () => 1, others: quiet, owner: quiet }), undefined);
});

s('a standby whose own heartbeats come less often than the owner\'s still counts', () => {
  // Its only evidence is its own heartbeat every 5 of the owner's periods: windows without
  // it neither count nor reset, so 3 windows that had one make the owner gone.
  const gone = drive(60 * P, { connection: () => 1, others: (t) => t % (5 * P) === 0, owner: (t) => onBeat(t) && t < 10 * P });
  assert.ok(gone !== undefined && gone >= 20 * P && gone <= 26 * P, `gone at ${gone}`);
});

s('the owner\'s next heartbeat ends its being gone', () => {
  const counter = new MissedHeartbeats(3);
  counter.ownerBeat(0, P, 1);
  for (let t = P; t <= 3 * P; t += P) counter.check(t, 1, t - 1);
  assert.ok(counter.gone);
  assert.ok(counter.ownerBeat(3.5 * P, P, 1), 'reports that it was gone');
  assert.not.ok(counter.gone);
  assert.is(counter.missed, 0);
});

s('nothing counts before the owner\'s first heartbeat (its period is not known)', () => {
  const counter = new MissedHeartbeats(3);
  for (let t = P; t <= 10 * P; t += P) assert.not.ok(counter.check(t, 1, t - 1));
  assert.not.ok(counter.started);
  assert.not.ok(counter.gone);
});

s.run();
