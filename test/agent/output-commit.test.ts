import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutputCommit } from '../../src/agent/output-commit.ts';
import type { LogEntry } from '../../src/agent/output-log.ts';

const entries = (from: number, to: number): LogEntry[] => Array.from({ length: to - from }, (_, i) => ({ seq: from + i, stream: 1, data: Uint8Array.of(from + i) }));

test('followers see output only up to the last checkpoint every standby holds', () => {
  const commit = new OutputCommit();
  assert.equal(commit.visible(entries(0, 5)), []);
  assert.equal(commit.release(3), { from: 0, to: 3 });
  assert.equal(commit.visible(entries(0, 5)).map((e) => e.seq), [0, 1, 2]);
  assert.equal(commit.release(5), { from: 3, to: 5 });
  assert.is(commit.released, 5);
});

test('what was released stays released: an older checkpoint acknowledged late releases nothing', () => {
  const commit = new OutputCommit(10);
  assert.equal(commit.release(4), { from: 10, to: 10 });
  assert.is(commit.released, 10);
  assert.equal(commit.visible(entries(8, 12)).map((e) => e.seq), [8, 9]);
});

test.run();
