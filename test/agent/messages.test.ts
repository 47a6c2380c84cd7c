import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newId, parseJobState, parseMessage, ProtocolError } from '../../src/agent/messages.ts';

const base = { v: 1, id: newId(), ts: Date.now(), from: 'client-1', replyTo: 'wasmig/v1/clients/client-1/inbox' };
const spec = { program: 'p.wasm', module: { sha256: 'a'.repeat(64), size: 100 }, args: ['p.wasm', 'x'], env: { A: 'b' }, startedAt: '2024-01-01T00:00:00Z' };

test('a well-formed start request parses', () => {
  const m = parseMessage(JSON.stringify({ ...base, type: 'start', job: 'job-1', spec }));
  assert.is(m.type, 'start');
  if (m.type === 'start') assert.equal(m.spec.args, ['p.wasm', 'x']);
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['not JSON', {}, /not JSON/],
  ['other version', { ...base, v: 2, type: 'sync' }, /protocol version 2/],
  ['unknown type', { ...base, type: 'launch' }, /unknown message type/],
  ['job id with a slash', { ...base, type: 'start', job: 'a/b', spec }, /job is not a valid name/],
  ['job id with a wildcard', { ...base, type: 'replay', job: '+', fromSeq: 0, outTopic: 'wasmig/v1/clients/x/out' }, /job is not a valid name/],
  ['short sha256', { ...base, type: 'start', job: 'j', spec: { ...spec, module: { sha256: 'abc', size: 1 } } }, /sha256 is not 64 hex/],
  ['negative sequence', { ...base, type: 'replay', job: 'j', fromSeq: -1, outTopic: 'wasmig/v1/clients/x/out' }, /fromSeq/],
  ['reply topic outside the protocol', { ...base, replyTo: '$SYS/x', type: 'sync' }, /replyTo is not a wasmig topic/],
  ['env with a number', { ...base, type: 'start', job: 'j', spec: { ...spec, env: { A: 1 } } }, /env/],
  ['epoch 0', { ...base, type: 'commit', job: 'j', epoch: 0 }, /epoch/],
  ['placement label with a space in its key', { ...base, type: 'start', job: 'j', spec: { ...spec, placement: { 'a b': 'x' } } }, /spec\.placement is not a map of labels/],
  ['placement label that is not a string', { ...base, type: 'start', job: 'j', spec: { ...spec, placement: { site: 2 } } }, /spec\.placement is not a map of labels/],
  ['drain timeout below 0', { ...base, type: 'drain', timeoutMs: -1 }, /timeoutMs/],
  ['migrate reason too long', { ...base, type: 'migrate', job: 'j', to: 'b', reason: 'x'.repeat(600) }, /reason is not a string of at most 512/],
];

for (const [what, message, why] of bad) {
  test(`refused: ${what}`, () => {
    const text = what === 'not JSON' ? '{nope' : JSON.stringify(message);
    assert.throws(() => parseMessage(text), (e: unknown) => e instanceof ProtocolError && why.test((e as Error).message));
  });
}

test('drains, migrate reasons and placement labels parse', () => {
  assert.equal(parseMessage(JSON.stringify({ ...base, type: 'drain', timeoutMs: 5000 })), { ...base, type: 'drain', timeoutMs: 5000 });
  const m = parseMessage(JSON.stringify({ ...base, type: 'migrate', job: 'j', to: 'b', reason: 'rule busy' }));
  assert.is(m.type === 'migrate' ? m.reason : undefined, 'rule busy');
  const st = parseMessage(JSON.stringify({ ...base, type: 'start', job: 'j', spec: { ...spec, placement: { site: 'plant-2' } } }));
  assert.equal(st.type === 'start' ? st.spec.placement : undefined, { site: 'plant-2' });
  const s = parseJobState(Buffer.from(JSON.stringify({ v: 1, job: 'j', agent: 'a', instance: 'i', epoch: 2, state: 'running', program: 'p', args: [], startedAt: 't', updatedAt: 't', placement: { site: 'plant-2' } })));
  assert.equal(s?.placement, { site: 'plant-2' });
  assert.is(parseJobState(Buffer.from(JSON.stringify({ v: 1, job: 'j', agent: 'a', instance: 'i', epoch: 2, state: 'running', program: 'p', args: [], startedAt: 't', updatedAt: 't', placement: ['x'] }))), undefined);
});

test('job states: an empty retained message clears, garbage is ignored', () => {
  assert.is(parseJobState(Buffer.alloc(0)), undefined);
  assert.is(parseJobState(Buffer.from('{"state":"dancing"}')), undefined);
  const s = parseJobState(Buffer.from(JSON.stringify({ v: 1, job: 'j', agent: 'a', instance: 'i', epoch: 2, state: 'running', program: 'p', args: [], startedAt: 't', updatedAt: 't' })));
  assert.is(s?.epoch, 2);
});

test.run();
