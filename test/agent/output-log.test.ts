import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../src/agent/messages.ts';
import { MAX_CHUNK, OutputLog } from '../../src/agent/output-log.ts';

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
  const log = new OutputLog(10);
  for (let i = 0; i < 5; i++) log.append(1, text('1234'));
  assert.is(log.floor, 3);
  assert.equal(log.since(0).map((e) => e.seq), [3, 4]);
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
