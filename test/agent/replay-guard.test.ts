import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SKEW_MS, ReplayGuard } from '../../src/agent/replay-guard.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-guard-'));
const id = (c: string): string => c.repeat(32);

test('within one run, messages of a sender may come in any order; each id once', () => {
  const guard = new ReplayGuard();
  const now = Date.now();
  assert.is(guard.check('c1', id('a'), now, { now }), undefined);
  assert.is(guard.check('c1', id('b'), now - 1000, { now }), undefined);
  assert.match(guard.check('c1', id('b'), now - 1000, { now }) ?? '', /id seen before/);
});

test('across a restart, a sender\'s messages up to its high-water mark are refused, newer ones taken', () => {
  const store = join(work, 'a', 'replay-guard.json');
  const now = Date.now();
  const first = new ReplayGuard(store);
  assert.ok(existsSync(store), 'written at start: an unusable state dir shows at once');
  assert.is(first.check('c1', id('a'), now - 5000, { now }), undefined);
  assert.is(first.check('c1', id('b'), now - 2000, { now }), undefined);
  assert.is(first.check('c1', id('c'), now - 2000, { now }), undefined);
  assert.is(first.check('agent-b', id('d'), now - 100, { now }), undefined);
  // Replies are not written down (nothing acts on them after a restart).
  assert.is(first.check('c2', id('e'), now, { now, durable: false }), undefined);
  const second = new ReplayGuard(store);
  assert.match(second.check('c1', id('a'), now - 5000, { now }) ?? '', /not newer than the last one accepted from c1 before this restart/);
  assert.match(second.check('c1', id('b'), now - 2000, { now }) ?? '', /before this restart/);
  // Same millisecond as the mark, but not seen: a message the old run never got.
  assert.is(second.check('c1', id('f'), now - 2000, { now }), undefined);
  assert.is(second.check('c1', id('g'), now - 1999, { now }), undefined);
  assert.match(second.check('agent-b', id('d'), now - 100, { now }) ?? '', /before this restart/);
  assert.is(second.check('c2', id('e'), now, { now }), undefined);
});

test('senders silent for longer than the clock window leave the file', () => {
  const store = join(work, 'b', 'replay-guard.json');
  const now = Date.now();
  const guard = new ReplayGuard(store);
  assert.is(guard.check('old', id('a'), now - MAX_SKEW_MS + 10, { now }), undefined);
  assert.is(guard.check('new', id('b'), now + 5, { now: now + 5 }), undefined);
  assert.ok(readFileSync(store, 'utf8').includes('"old"'));
  assert.is(guard.check('new', id('c'), now + 30, { now: now + 30 }), undefined);
  assert.not.ok(readFileSync(store, 'utf8').includes('"old"'), readFileSync(store, 'utf8'));
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
