/**
 * The handoff model (handoff-model.ts), checked exhaustively: with the rules the code
 * has, no order of messages, crash or broker restart within the bounds runs two copies
 * of the job or loses it; without the source's guard, or without waiting out the
 * target's expiry, the checker finds a counterexample (so it can find one at all).
 *
 * WASMIG_MODEL_FULL=1 also runs the larger bounds quoted in docs/protocol.md (a minute
 * or more on a quiet machine).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALL_RULES, checkHandoff, NO_RULES } from './handoff-model.ts';
import type { CheckResult, ModelBounds } from './handoff-model.ts';

const TWO_MIGRATIONS_ONE_CRASH: ModelBounds = { chain: true, clients: 2, crashes: 1, restarts: 0 };
const ONE_MIGRATION_ONE_RESTART: ModelBounds = { chain: false, clients: 1, crashes: 0, restarts: 1 };
/** Failover: T2 is a standby; a migration to T1 races a crash of anyone. */
const FAILOVER_CRASH: ModelBounds = { chain: false, clients: 1, crashes: 1, restarts: 0, standby: true };
/** Failover: migrations to T1 and to the standby itself race a crash. */
const FAILOVER_TWO_MIGRATIONS: ModelBounds = { chain: false, clients: 2, crashes: 1, restarts: 0, standby: true };
/** Failover: an agent cut off from the broker, and back, while a migration to T1 goes on. */
const FAILOVER_PARTITION: ModelBounds = { chain: false, clients: 1, crashes: 0, restarts: 0, standby: true, partitions: 1 };
/** A bridge outage between the owner's site and the standby's: no last will, the standby counts missed heartbeats. */
const BRIDGE_OUTAGE: ModelBounds = { chain: false, clients: 0, crashes: 0, restarts: 0, standby: true, bridgeCuts: 1 };
/** The same with a migration to T1 (on the owner's site) under way across it. */
const BRIDGE_OUTAGE_MIGRATION: ModelBounds = { ...BRIDGE_OUTAGE, clients: 1 };

const s = suite('handoff model');

function report(what: string, r: CheckResult): void {
  console.log(`\n  ${what}: ${r.states} states explored, ${r.quiescent} at rest${r.violation ? `; counterexample: ${r.violation.message}` : ''}`);
}

function clean(r: CheckResult): void {
  assert.ok(!r.violation, r.violation && `${r.violation.message}\n  ${r.violation.trace.join('\n  ')}`);
}

s('two concurrent migrations, a chain S -> T1 -> T2, one crash anywhere: one owner, always', () => {
  const r = checkHandoff(ALL_RULES, TWO_MIGRATIONS_ONE_CRASH);
  report('two migrations, one crash', r);
  clean(r);
  // Bounds that silently shrank would check nothing: the space has tens of thousands of states.
  assert.ok(r.states > 10_000, `${r.states} states`);
  assert.ok(r.quiescent > 100, `${r.quiescent} states at rest`);
});

s('one migration, a broker restart anywhere (messages lost, an older retained state back): one owner', () => {
  const r = checkHandoff(ALL_RULES, ONE_MIGRATION_ONE_RESTART);
  report('one migration, one broker restart', r);
  clean(r);
  assert.ok(r.states > 2_000, `${r.states} states`);
});

s('without the source guard, two concurrent migrations both commit: the fork of issue 14', () => {
  const r = checkHandoff({ ...ALL_RULES, guard: false }, { ...TWO_MIGRATIONS_ONE_CRASH, crashes: 0 });
  report('no guard', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(T1, T2\)$/);
  // Both handoffs under way at S at once, each with its own epoch.
  assert.match(r.violation.trace.join('\n'), /S -> T1: commit epoch 2[\s\S]*S -> T2: commit epoch 3|S -> T2: commit epoch 2[\s\S]*S -> T1: commit epoch 3/);
  console.log(`  ${r.violation.trace.join('\n  ')}`);
});

s('a source that gives up before the target\'s copy expires runs a second copy when the commit comes late', () => {
  const r = checkHandoff({ ...ALL_RULES, waitOutTtl: false }, TWO_MIGRATIONS_ONE_CRASH);
  report('no waiting out the expiry', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(S, T1\)/);
  assert.match(r.violation.trace.join('\n'), /S -> T1: commit epoch 2\nS gives up waiting for T1's commit answer \(before the target's copy expires\)$/);
});

s('without saying its state again over an older one, an owner is misreported after a broker restart', () => {
  const r = checkHandoff({ ...ALL_RULES, reassert: false }, ONE_MIGRATION_ONE_RESTART);
  report('no reassert', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^at rest: the broker shows S migrating at epoch 1, but the job runs on T1 at epoch 2$/);
});

s('the code before the fix forks the job', () => {
  const r = checkHandoff(NO_RULES, TWO_MIGRATIONS_ONE_CRASH);
  report('before the fix', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once/);
});

s('failover: a standby takes over from a crashed owner, a migration racing it: one owner, and never lost while the standby can run it', () => {
  const r = checkHandoff(ALL_RULES, FAILOVER_CRASH);
  report('failover, one migration, one crash', r);
  clean(r);
  assert.ok(r.states > 1_000, `${r.states} states`);
});

s('failover: migrations to T1 and to the standby itself race a crash of anyone: one owner', () => {
  const r = checkHandoff(ALL_RULES, FAILOVER_TWO_MIGRATIONS);
  report('failover, two migrations, one crash', r);
  clean(r);
  assert.ok(r.states > 10_000, `${r.states} states`);
});

s('failover: an owner (or target) cut off and back, a migration under way: the lease keeps one owner', () => {
  const r = checkHandoff(ALL_RULES, FAILOVER_PARTITION);
  report('failover, one migration, one partition', r);
  clean(r);
  assert.ok(r.states > 20_000, `${r.states} states`);
});

s('without the lease, a cut-off owner runs on while the standby takes over', () => {
  const r = checkHandoff({ ...ALL_RULES, lease: false }, FAILOVER_PARTITION);
  report('no lease', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(S, T2\)$/);
  assert.match(r.violation.trace.join('\n'), /S is cut off from the broker[\s\S]*T2 takes the job over from its checkpoint$/);
});

s('a bridge outage longer than the standby\'s missed heartbeats and grace: the standby lease pauses the owner first; one owner', () => {
  const r = checkHandoff(ALL_RULES, BRIDGE_OUTAGE);
  report('bridge outage', r);
  clean(r);
  assert.ok(r.quiescent > 1, `${r.quiescent} states at rest`);
});

s('a bridge outage with a migration under way across it: one owner', () => {
  const r = checkHandoff(ALL_RULES, BRIDGE_OUTAGE_MIGRATION);
  report('bridge outage, one migration', r);
  clean(r);
  assert.ok(r.states > 20_000, `${r.states} states`);
});

s('without the standby lease, a bridge outage runs the job on both sites (the fork docs/protocol.md described)', () => {
  const r = checkHandoff({ ...ALL_RULES, standbyLease: false }, BRIDGE_OUTAGE);
  report('no standby lease', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(S, T2\)$/);
  // No last will, no crash: only the bridge went down.
  assert.equal(r.violation.trace, ['start', 'the bridge between the sites goes down', 'T2 takes the job over from its checkpoint']);
});

s('a migration target that trusts its inherited standby from its commit runs beside that standby\'s takeover', () => {
  const r = checkHandoff({ ...ALL_RULES, inheritAsk: false }, BRIDGE_OUTAGE_MIGRATION);
  report('no waiting for the inherited standby', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(T1, T2\)$/);
  assert.match(r.violation.trace.join('\n'), /S -> T1: commit epoch 2[\s\S]*the bridge between the sites goes down[\s\S]*T2 takes the job over from its checkpoint$/);
});

s('an owner resumed in doubt at an epoch above the takeover\'s, never published, runs beside the standby when it trusts its epoch', () => {
  const r = checkHandoff({ ...ALL_RULES, yieldUnsaid: false }, { ...BRIDGE_OUTAGE_MIGRATION, crashes: 1 });
  report('no yielding to a standby that runs the job', r);
  assert.ok(r.violation);
  assert.match(r.violation.message, /^2 copies run at once \(S, T2\)$/);
  assert.match(r.violation.trace.join('\n'), /T1 crashes[\s\S]*T2 takes the job over[\s\S]*lease answer: no standby copy, knows T2 at epoch 2\nS's lease is back: it reads the job's retained state$/);
});

s('larger bounds (WASMIG_MODEL_FULL=1)', () => {
  if (process.env.WASMIG_MODEL_FULL !== '1') {
    console.log('\n  SKIPPED: the larger bounds (set WASMIG_MODEL_FULL=1): two migrations with a broker restart, one migration with a crash and a restart, and failover with a restart, with a partition and a crash, with two migrations and a partition, a bridge outage with a migration and a crash, and with three lease lapses');
    return;
  }
  for (const bounds of [
    { chain: false, clients: 2, crashes: 0, restarts: 1 },
    { chain: true, clients: 1, crashes: 1, restarts: 1 },
    { chain: false, clients: 1, crashes: 0, restarts: 1, standby: true },
    { chain: false, clients: 1, crashes: 1, restarts: 0, standby: true, partitions: 1 },
    { chain: false, clients: 2, crashes: 0, restarts: 0, standby: true, partitions: 1 },
    { ...BRIDGE_OUTAGE_MIGRATION, crashes: 1 },
    { ...BRIDGE_OUTAGE_MIGRATION, lapses: 3 },
  ] satisfies ModelBounds[]) {
    const r = checkHandoff(ALL_RULES, bounds);
    report(JSON.stringify(bounds), r);
    clean(r);
  }
});

s.run();
