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

test.run();
