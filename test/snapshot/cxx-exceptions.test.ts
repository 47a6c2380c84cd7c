/**
 * The C++ exceptions corpus program (clang's legacy try/catch/catch_all/rethrow) paused
 * at points spread over its run, many of them between a throw and the end of its
 * catch (a legacy catch keeps its exception on the operand stack), snapshotted and
 * resumed in a fresh program: the same output and memory as the run that never stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import { findCase, finish, resumeProgram, Sandbox, spreadPoints, startProgram } from '../helpers/snapshot-runs.ts';

const c = findCase('cxx_exceptions');
const root = mkdtempSync(join(tmpdir(), 'wasmig-cxx-eh-'));
const OUTPUT = 'sum 89700, caught 200, destroyed 374850\n';

test('cxx_exceptions: paused anywhere, inside handlers too, resumed elsewhere, the same ending', () => {
  const whole = new Sandbox(root, c);
  const ending = finish(startProgram(c, whole));
  assert.is(whole.output().toString('utf8'), OUTPUT);
  whole.dispose();
  assert.is(ending.status, 0);
  let insideCatch = 0;
  for (const k of spreadPoints(1, ending.instructions - 1, 40, [ending.instructions - 1])) {
    const a = new Sandbox(root, c);
    const p = startProgram(c, a);
    assert.is(p.run({ until: k }).kind, 'paused', `pause at ${k}`);
    const snapshot = p.snapshot();
    if ((decodeSnapshot(snapshot).state.exceptions?.length ?? 0) > 0) insideCatch++;
    assert.equal(finish(resumeProgram(c, a, snapshot)), ending, `resumed after ${k}`);
    assert.is(a.output().toString('utf8'), OUTPUT, `output after a pause at ${k}`);
    a.dispose();
  }
  // Pauses land inside handlers only now and then: run until one does, and resume from it.
  let k = 1;
  for (; insideCatch === 0 && k < ending.instructions; k += 97) {
    const a = new Sandbox(root, c);
    const p = startProgram(c, a);
    p.run({ until: k });
    const snapshot = p.snapshot();
    if ((decodeSnapshot(snapshot).state.exceptions?.length ?? 0) > 0) {
      insideCatch++;
      assert.equal(finish(resumeProgram(c, a, snapshot)), ending, `resumed inside a handler after ${k}`);
      assert.is(a.output().toString('utf8'), OUTPUT);
    }
    a.dispose();
  }
  assert.ok(insideCatch > 0, 'some pause held a caught exception');
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
