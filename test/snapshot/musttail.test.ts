/**
 * The musttail corpus program (a bytecode interpreter whose handlers dispatch by tail
 * calls through a table) paused at points spread over its run, each inside one handler
 * or another, snapshotted and resumed in a fresh program: the same output and memory
 * as the run that never stopped, on both internal codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findCase, finish, resumeProgram, Sandbox, spreadPoints, startProgram } from '../helpers/snapshot-runs.ts';

const c = findCase('musttail');
const root = mkdtempSync(join(tmpdir(), 'wasmig-musttail-'));

test('musttail: paused anywhere in its tail-call dispatch, resumed elsewhere, the same ending', () => {
  const whole = new Sandbox(root, c);
  const ending = finish(startProgram(c, whole));
  const output = whole.output().toString('utf8');
  whole.dispose();
  assert.is(ending.status, 0);
  assert.is(output, 'rounds 10000: 90007 handler tail calls, result 2c3115cec0334af9\n');
  for (const k of spreadPoints(1, ending.instructions - 1, 12, [ending.instructions - 1])) {
    const a = new Sandbox(root, c);
    const p = startProgram(c, a);
    assert.is(p.run({ until: k }).kind, 'paused', `pause at ${k}`);
    const snapshot = p.snapshot();
    const resumed = finish(resumeProgram(c, a, snapshot));
    assert.equal(resumed, ending, `resumed after ${k}`);
    assert.is(a.output().toString('utf8'), output, `output after a pause at ${k}`);
    a.dispose();
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
