/**
 * The disk cache's entry codec (`rewrite-codec.ts`): a rewrite and the validation's
 * findings come back as they went in, safepoints included (read when first needed, and
 * copied by a structured clone as a field would be); a payload whose safepoints do not
 * hold together is refused when it is decoded, not later when a pause reads them.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bodyFacts } from '../../src/compile/index.ts';
import { rewriteModule } from '../../src/native/index.ts';
import { decodeRewrite, encodeRewrite, rewriteKey } from '../../src/native/rewrite-codec.ts';
import { loadModule } from '../../src/program/index.ts';

const bytes = new Uint8Array(readFileSync(new URL('../programs/ticker.wasm', import.meta.url)));
const compiled = loadModule(bytes);
const rewritten = rewriteModule(compiled.context, {});
const facts = bodyFacts(compiled);
const payload = encodeRewrite('the key', rewritten, facts);

/** The safepoints of every function, as plain arrays. */
function sitesOf(functions: typeof rewritten.functions): unknown[] {
  return functions.map((f) => f?.sites.map((s) => ({ ...s, stack: [...s.stack], types: [...s.types], callResults: [...s.callResults] })));
}

test('a rewrite and its validation facts come back as they went in', () => {
  assert.is(rewriteKey(payload), 'the key');
  const back = decodeRewrite(payload);
  assert.equal(back.facts, facts);
  assert.equal([...back.rewritten.bytes], [...rewritten.bytes]);
  assert.equal(sitesOf(back.rewritten.functions), sitesOf(rewritten.functions));
  assert.ok(rewritten.functions.some((f) => (f?.sites.length ?? 0) > 0), 'the ticker has safepoints');
  for (let i = 0; i < rewritten.functions.length; i++) {
    const [a, b] = [rewritten.functions[i], back.rewritten.functions[i]];
    assert.is(b?.funcIndex, a?.funcIndex);
    assert.equal([...(b?.originalPcs ?? [])], [...(a?.originalPcs ?? [])]);
  }
});

test('loaded safepoints survive a structured clone (a rewrite handed to another thread)', () => {
  const back = decodeRewrite(payload).rewritten;
  const cloned = structuredClone(back.functions);
  assert.equal(sitesOf(cloned), sitesOf(rewritten.functions));
});

test('safepoints that do not fill their share are refused at decode time', () => {
  // Find one function's site counts in the int stream: the ints follow the key and the facts.
  const f = rewritten.functions.find((x) => x !== undefined && x.sites.length > 0)!;
  let siteInts = 0;
  for (const s of f.sites) siteInts += 5 + s.stack.length;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 4 + ((view.getUint32(0, true) + 3) & ~3);
  at += 4 + ((view.getUint32(at, true) + 3) & ~3);
  const ints = new Int32Array(payload.buffer.slice(payload.byteOffset + at + 4, payload.byteOffset + at + 4 + view.getUint32(at, true) * 4));
  // The triple (number of sites, their ints, their bytes) of that function.
  let found = -1;
  for (let i = 0; i + 2 < ints.length; i++) {
    if (ints[i] === f.sites.length && ints[i + 1] === siteInts && ints[i + 3] === f.sites[0]!.pc) { found = i; break; }
  }
  assert.ok(found >= 0, 'found the counts');
  const spoiled = Uint8Array.from(payload);
  // One site fewer than its ints hold: the walk no longer ends where the share does.
  new DataView(spoiled.buffer).setInt32(at + 4 + found * 4, f.sites.length - 1, true);
  assert.throws(() => decodeRewrite(spoiled), (e: unknown) => e instanceof RangeError);
});

test.run();
