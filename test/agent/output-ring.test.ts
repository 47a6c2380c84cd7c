/**
 * The shared ring that carries a job's output from its worker thread: records in
 * order, across the wrap-around, split when larger than a record may be, and a writer
 * that waits for room instead of overwriting.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRingBuffer, RingReader, RingWriter } from '../../src/agent/output-ring.ts';
import { repoRoot } from '../helpers/cli.ts';

const s = suite('output ring');

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

s('records come out in order, with their streams, across many wrap-arounds', () => {
  const buffer = createRingBuffer(256);
  const writer = new RingWriter(buffer);
  const reader = new RingReader(buffer);
  const got: number[] = [];
  let expected = 0;
  for (let i = 0; i < 500; i++) {
    const data = bytes((i % 37) + 1, i);
    writer.write(((i % 2) + 1) as 1 | 2, data);
    if (i % 3 === 2) {
      for (const r of reader.drain()) {
        assert.is(r.stream, (expected % 2) + 1, `stream of record ${expected}`);
        assert.equal([...r.data], [...bytes((expected % 37) + 1, expected)], `bytes of record ${expected}`);
        got.push(expected++);
      }
    }
  }
  for (const r of reader.drain()) { assert.equal([...r.data], [...bytes((expected % 37) + 1, expected)]); got.push(expected++); }
  assert.is(got.length, 500);
});

s('a write larger than a record may be is split, in order', () => {
  const buffer = createRingBuffer(1024);
  const writer = new RingWriter(buffer);
  const reader = new RingReader(buffer);
  const data = bytes(600, 7);
  // 1024-byte ring: records of at most 256 bytes; 600 bytes need 3 of them, more than fits at once.
  writer.write(1, data.subarray(0, 500));
  const first = reader.drain();
  writer.write(1, data.subarray(500));
  const all = [...first, ...reader.drain()];
  assert.equal(all.map((r) => r.data.length), [256, 244, 100]);
  assert.equal([...Buffer.concat(all.map((r) => r.data))], [...data]);
});

s('a writer in another thread waits for room while the reader is behind, and loses nothing', async () => {
  const buffer = createRingBuffer(128);
  // The real RingWriter, in a worker thread of its own (tsx registered there, as job-runner.ts does).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const ring = pathToFileURL(resolve(repoRoot, 'src/agent/output-ring.ts')).href;
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    (async () => {
      (await import(workerData.tsx)).register();
      const { RingWriter } = await import(workerData.ring);
      const writer = new RingWriter(workerData.buffer);
      for (let i = 0; i < 200; i++) writer.write(1 + (i % 2), Uint8Array.from({ length: 20 }, (_, k) => (i + k) & 0xff));
    })();
  `, { eval: true, execArgv: [], workerData: { buffer, tsx, ring } });
  const reader = new RingReader(buffer);
  const records: Uint8Array[] = [];
  await new Promise<void>((resolve) => {
    reader.follow(() => {
      for (const r of reader.drain()) { assert.is(r.stream, 1 + (records.length % 2)); records.push(r.data); }
      if (records.length === 200) resolve();
    });
  });
  reader.close();
  await worker.terminate();
  assert.is(records.length, 200);
  records.forEach((r, i) => assert.equal([...r], Array.from({ length: 20 }, (_, k) => (i + k) & 0xff), `record ${i}`));
});

s.run();
