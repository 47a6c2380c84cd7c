import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Capacity } from '../../src/agent/capacity.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-capacity-'));

test('the heartbeat carries labels, cores, max-jobs, draining, and the signal file as it is at each beat', () => {
  const file = join(dir, 'signals.json');
  const logged: string[] = [];
  const capacity = new Capacity({ labels: { site: 'plant-2' }, maxJobs: 3, signalFile: file });
  const first = capacity.fields(0.5, (l) => logged.push(l));
  assert.equal({ ...first, cores: 1 }, { cpu: 0.5, labels: { site: 'plant-2' }, cores: 1, draining: false, maxJobs: 3 }, 'no file yet: no signals, no complaint');
  assert.ok((first.cores ?? 0) >= 1);
  writeFileSync(file, '{"battery": 12, "leaving": true, "nested": {"x": 1}}');
  assert.equal(capacity.fields(0.5, (l) => logged.push(l)).signals, { battery: 12, leaving: true });
  writeFileSync(file, '{"battery": ');
  assert.is(capacity.fields(0.5, (l) => logged.push(l)).signals, undefined);
  capacity.fields(0.5, (l) => logged.push(l));
  assert.is(logged.length, 1, 'a bad file is said once');
  assert.match(logged[0], /^--signal-file .*signals\.json: .*JSON.*; no host signals sent$/);
  capacity.draining = true;
  assert.is(capacity.fields(0, () => {}).draining, true);
});

test('refusals: draining, then full at --max-jobs', () => {
  const capacity = new Capacity({ maxJobs: 2 });
  assert.is(capacity.refusal('a', 1), undefined);
  assert.is(capacity.refusal('a', 2), 'agent a is full: 2 of at most 2 jobs (wasmig agent --max-jobs)');
  capacity.draining = true;
  assert.is(capacity.refusal('a', 0), 'agent a is draining (it moves its jobs away before it stops)');
  assert.throws(() => new Capacity({ maxJobs: 0 }), /--max-jobs 0: expected a whole number of at least 1/);
});

test('the test-only load file replaces the measured CPU; unreadable, it does not', () => {
  const file = join(dir, 'load');
  const capacity = new Capacity({ loadFile: file });
  assert.is(capacity.fields(0.25, () => {}).cpu, 0.25);
  writeFileSync(file, '1.8\n');
  assert.is(capacity.fields(0.25, () => {}).cpu, 1.8);
  writeFileSync(file, 'busy');
  assert.is(capacity.fields(0.25, () => {}).cpu, 0.25);
});

test.run();
