/**
 * What an agent keeps of jobs that left it stays within one bound, images and output
 * logs together.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JobBases } from '../../src/agent/job-bases.ts';
import { OutputLog } from '../../src/agent/output-log.ts';

function held(imageBytes: number, logBytes: number): { digest: string; images: ArrayBuffer[]; log: OutputLog } {
  const log = new OutputLog();
  for (let at = 0; at < logBytes; at += 1000) log.append(1, new Uint8Array(Math.min(1000, logBytes - at)));
  return { digest: 'd', images: [new ArrayBuffer(imageBytes)], log };
}

test('past the bound the least recently stored go, and a job that alone is past it is not kept', () => {
  const bases = new JobBases(3 * 1024 * 1024);
  for (const id of ['j1', 'j2', 'j3', 'j4']) bases.put(id, held(1024 * 1024, 0));
  assert.is(bases.peek('j1'), undefined);
  assert.ok(bases.peek('j4'));
  assert.ok(bases.bytes <= 3 * 1024 * 1024);
  bases.put('huge', held(4 * 1024 * 1024, 0));
  assert.is(bases.peek('huge'), undefined);
  assert.is(bases.take('j4')?.digest, 'd');
  assert.is(bases.peek('j4'), undefined);
});

// Only the images were counted: jobs with small memories and full logs (16 MiB each by
// default) could hold any number of logs past the bound.
test('the output logs of jobs that left count against the bound too', () => {
  const bases = new JobBases(1024 * 1024);
  for (let i = 0; i < 20; i++) bases.put(`j${i}`, held(4096, 200 * 1024));
  assert.ok(bases.bytes <= 1024 * 1024, `${bases.bytes} bytes held`);
  const kept = Array.from({ length: 20 }, (_, i) => bases.peek(`j${i}`)).filter((h) => h !== undefined);
  assert.ok(kept.length <= 5, `${kept.length} jobs of 200 KiB of output kept within 1 MiB`);
  assert.ok(bases.peek('j19'), 'the newest is kept');
});

test.run();
