/**
 * The facts the one opcode table gives about instructions, checked against the lists
 * the translators and the native rewriter kept before the facts moved into the table.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Imm, OPS, PREFIX_FC, PREFIX_FD } from '../../src/wasm/opcodes.ts';

const FC = PREFIX_FC;
/** Codes of every instruction without SIMD (Wasm 2.0, and the tail calls, typed function references and exception handling of 3.0). */
const CODES = OPS.filter((info) => info !== undefined && info.code < PREFIX_FD).map((info) => info!.code);
const named = (pred: (code: number) => boolean): string[] => CODES.filter(pred).map((code) => OPS[code]!.name);

test('control: structured control, branches, return, calls and unreachable', () => {
  assert.equal(named((c) => OPS[c]!.control), [
    'unreachable', 'block', 'loop', 'if', 'else', 'try', 'catch', 'throw', 'rethrow', 'throw_ref', 'end', 'br', 'br_if',
    'br_table', 'return', 'call', 'call_indirect', 'return_call', 'return_call_indirect', 'call_ref', 'return_call_ref',
    'delegate', 'catch_all', 'try_table', 'br_on_null', 'br_on_non_null',
  ]);
});

test('table writes and segment users', () => {
  assert.equal(named((c) => OPS[c]!.writesTable), ['table.set', 'table.init', 'table.copy', 'table.grow', 'table.fill']);
  assert.equal(named((c) => OPS[c]!.usesSegment), ['memory.init', 'data.drop', 'table.init', 'elem.drop']);
});

test('pops: from the signature, stated for the rest, unknown for control', () => {
  for (const code of CODES) {
    const info = OPS[code]!;
    if (info.sig !== undefined) assert.is(info.pops, info.sig.indexOf('>'), info.name);
    else if (info.control) assert.is(info.pops, -1, info.name);
  }
  const stated: Record<string, number> = {
    nop: 0, 'local.get': 0, 'global.get': 0, 'ref.null': 0, 'ref.func': 0,
    drop: 1, 'local.set': 1, 'local.tee': 1, 'global.set': 1, 'table.get': 1, 'ref.is_null': 1, 'ref.as_non_null': 1,
    'table.set': 2, 'table.grow': 2, select: 3, select_t: 3, 'table.fill': 3,
  };
  assert.equal(Object.fromEntries(CODES.filter((c) => OPS[c]!.sig === undefined && !OPS[c]!.control).map((c) => [OPS[c]!.name, OPS[c]!.pops])), stated);
});

test('code words: what the exact code keeps after each plain opcode', () => {
  const two = [0x11, 0x13, 0x42, 0x44, FC + 12, FC + 14];
  const one = [0x10, 0x12, 0x14, 0x15, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x41, 0x43, 0xd2, FC + 8, FC + 9, FC + 13, FC + 15, FC + 16, FC + 17];
  for (const code of CODES) {
    const info = OPS[code]!;
    if (info.imm === Imm.blockType || info.imm === Imm.brTable || code === 0x0c || code === 0x0d || code === 0xd5 || code === 0xd6) continue; // rewritten by the translator
    if (info.imm === Imm.tryTable || [0x07, 0x08, 0x09, 0x0a, 0x18, 0x19].includes(code)) continue; // exception handling: rewritten too
    const expected = two.includes(code) ? 2 : one.includes(code) || info.imm === Imm.memArg ? 1 : 0;
    assert.is(info.codeWords, expected, info.name);
  }
});

test.run();
