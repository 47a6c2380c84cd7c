import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../src/agent/messages.ts';
import { CHUNK_COST, MAX_CHUNK, OutputLog } from '../../src/agent/output-log.ts';

const text = (s: string): Uint8Array => Buffer.from(s);

test('chunks of both streams share one sequence', () => {
  const log = new OutputLog();
  log.append(1, text('a'));
  log.append(2, text('b'));
  log.append(1, text('c'));
  assert.equal(log.since(0).map((e) => [e.seq, e.stream, Buffer.from(e.data).toString()]), [[0, 1, 'a'], [1, 2, 'b'], [2, 1, 'c']]);
  assert.equal(log.since(2).map((e) => e.seq), [2]);
  assert.equal(log.since(3), []);
  assert.is(log.next, 3);
});

test('large writes are split into chunks of at most 64 KiB', () => {
  const log = new OutputLog();
  const added = log.append(1, new Uint8Array(MAX_CHUNK * 2 + 1));
  assert.equal(added.map((e) => e.data.length), [MAX_CHUNK, MAX_CHUNK, 1]);
});

test('past its limit the log drops its oldest chunks and says where it starts', () => {
  // Room for two chunks of 4 bytes with their records, not three.
  const log = new OutputLog(2 * (4 + CHUNK_COST) + 10);
  for (let i = 0; i < 5; i++) log.append(1, text(`${i}234`));
  assert.is(log.floor, 3);
  assert.equal(log.since(0).map((e) => [e.seq, Buffer.from(e.data).toString()]), [[3, '3234'], [4, '4234']]);
  assert.is(log.bytes, 8);
  assert.is(log.chunks, 2);
});

test('the newest chunk stays even when it alone is past the limit', () => {
  const log = new OutputLog(10);
  log.append(1, text('a'));
  log.append(2, new Uint8Array(100).fill(7));
  assert.equal(log.since(0).map((e) => [e.seq, e.stream, e.data.length]), [[1, 2, 100]]);
  assert.is(log.floor, 1);
});

// Each chunk used to be kept as its own Uint8Array with its own record: about 385 bytes
// of memory beside a 60-byte line, so the soak's agents grew by tens of MB per 1,000
// moves, and a log "bounded to 16 MiB" of one-line chunks took seven times that.
test('a log of many small chunks keeps them in a few shared segments, and its limit counts each chunk', () => {
  const line = text('step 123456 checksum 0x1234abcd some text ..........\n');
  const log = new OutputLog();
  for (let i = 0; i < 100_000; i++) log.append(1, line.slice());
  const entries = log.since(0);
  assert.is(entries.length, 100_000);
  const buffers = new Set(entries.map((e) => e.data.buffer));
  assert.ok(buffers.size <= Math.ceil((100_000 * line.length) / MAX_CHUNK) + 5, `${buffers.size} buffers hold 100,000 chunks`);
  assert.equal(Buffer.from(entries[99_999].data), Buffer.from(line));
  // A byte at a time: the chunks' records count too.
  const tiny = new OutputLog(64 * 1024);
  for (let i = 0; i < 100_000; i++) tiny.append(1, new Uint8Array([i & 0xff]));
  assert.ok(tiny.chunks <= (64 * 1024) / (1 + CHUNK_COST), `${tiny.chunks} one-byte chunks kept in 64 KiB`);
  assert.is(tiny.next, 100_000);
  assert.equal(tiny.since(99_999).map((e) => [...e.data]), [[99_999 & 0xff]]);
});

test('old segments go once their chunks are dropped, and the ring of records wraps', () => {
  const log = new OutputLog(300 * (100 + CHUNK_COST));
  for (let i = 0; i < 5000; i++) log.append((i % 2) + 1 as 1 | 2, new Uint8Array(100).fill(i & 0xff));
  assert.is(log.chunks, 300);
  assert.is(log.floor, 4700);
  const entries = log.since(4690, 4705);
  assert.equal(entries.map((e) => e.seq), [4700, 4701, 4702, 4703, 4704]);
  assert.equal(entries.map((e) => [e.stream, e.data[0], e.data.length]), [4700, 4701, 4702, 4703, 4704].map((i) => [(i % 2) + 1, i & 0xff, 100]));
  const buffers = new Set(log.since(0).map((e) => e.data.buffer));
  assert.ok(buffers.size <= 3, `${buffers.size} segments hold 30,000 bytes`);
  const moved = OutputLog.fromPortable(log.portableSince(4998));
  assert.is(moved.floor, 4998);
  assert.equal(moved.since(0).map((e) => e.data[0]), [4998 & 0xff, 4999 & 0xff]);
});

test('a log travels with its job and continues its sequence', () => {
  const log = new OutputLog();
  log.append(1, text('x'));
  log.append(2, text('y'));
  const moved = OutputLog.fromPortable(log.toPortable());
  moved.append(1, text('z'));
  assert.equal(moved.since(0).map((e) => e.seq), [0, 1, 2]);
  assert.throws(() => OutputLog.fromPortable({ floor: 0, entries: [[1, 1, new Uint8Array()]] }), (e: unknown) => e instanceof ProtocolError);
  assert.throws(() => OutputLog.fromPortable({ floor: -1, entries: [] }), (e: unknown) => e instanceof ProtocolError);
  assert.throws(() => OutputLog.fromPortable({ floor: 0, entries: [[0, 3, new Uint8Array()]] }), (e: unknown) => e instanceof ProtocolError);
});


// A log arrives inside a decoded migration package: its chunks are views into the whole
// package (megabytes of memory images). Kept as views, every arrival pinned a package.
test('a log that arrived keeps copies of its chunks, never the package they were decoded from', () => {
  const pkg = new Uint8Array(4 * 1024 * 1024);
  pkg.set(text('line 0\n'), 100);
  pkg.set(text('line 1\n'), 200);
  const portable = { floor: 0, entries: [[0, 1, pkg.subarray(100, 107)], [1, 1, pkg.subarray(200, 207)]] };
  const pinned = (log: OutputLog): number[] => log.since(0).map((e) => e.data.buffer.byteLength).filter((n) => n >= pkg.length);
  const rebuilt = OutputLog.fromPortable(portable);
  assert.equal(pinned(rebuilt), []);
  assert.equal(rebuilt.since(0).map((e) => Buffer.from(e.data).toString()), ['line 0\n', 'line 1\n']);
  const extended = OutputLog.startingAt(0);
  extended.extend(portable);
  assert.equal(pinned(extended), []);
  assert.equal(extended.since(0).map((e) => Buffer.from(e.data).toString()), ['line 0\n', 'line 1\n']);
});

test.run();
