/**
 * The SIMD semantics table (`exec/simd-ops.ts`) checked against the spec suite's own
 * expectations: every `assert_return` of a simd_* script whose function is one SIMD
 * instruction applied to its parameters (`local.get`s, the instruction, `end`) is
 * evaluated with the table on a small value stack and compared lane by lane, NaNs as
 * the spec's canonical and arithmetic NaN patterns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, decodeModule, InstructionReader } from '../../src/binary/index.ts';
import type { Module } from '../../src/wasm/index.ts';
import { Imm, OPS, PREFIX_FD, ValType } from '../../src/wasm/index.ts';
import { shuffle, SIMD_OPS } from '../../src/exec/simd-ops.ts';
import { simdMemory } from '../../src/exec/simd-memory.ts';
import { Trap } from '../../src/errors/index.ts';
import { V128Lanes } from '../../src/exec/simd-lanes.ts';
import { SPEC_SUITE_DIR, specSuite } from '../helpers/test-data.ts';

interface SpecValue { type: string; lane_type?: string; value?: string | string[] }
interface Command { type: string; line: number; filename?: string; action?: { type: string; module?: string; field: string; args?: SpecValue[] }; expected?: SpecValue[] }

const LANE_BITS: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 };

/** One instruction applied to parameters, as the spec scripts' functions mostly are. */
interface SingleOp { sub: number; operands: number[]; lane: number; lanes: Uint8Array | undefined; memOffset: number | undefined }

/** The memory a module starts with: its minimum size, active data segments at constant offsets. */
function initialMemory(module: Module): Uint8Array | undefined {
  const type = module.memories[0];
  if (type === undefined) return undefined;
  const mem = new Uint8Array(type.limits.min * 65536);
  for (const seg of module.datas) {
    if (seg.mode.kind !== 'active') continue;
    const at = seg.mode.offset.instrs[0]!;
    if (at.op !== 0x41) return undefined;
    mem.set(seg.bytes, at.a >>> 0);
  }
  return mem;
}

function singleOp(module: Module, funcIndex: number): SingleOp | undefined {
  const code = module.codes[funcIndex - module.numImportedFuncs];
  if (code === undefined || code.locals.length > 0) return undefined;
  const reader = new InstructionReader(module.bytes, code.codeStart, code.codeEnd);
  const ins = createInstr();
  const operands: number[] = [];
  for (;;) {
    reader.read(ins);
    if (ins.op !== 0x20) break;
    operands.push(ins.a);
  }
  if (ins.op < PREFIX_FD) return undefined;
  const sub = ins.op - PREFIX_FD;
  const imm = OPS[ins.op]!.imm;
  const memory = imm === Imm.memArg || imm === Imm.memArgLane;
  if (imm !== Imm.none && imm !== Imm.lane && imm !== Imm.shuffle && !memory) return undefined;
  const op: SingleOp = {
    sub, operands, lane: imm === Imm.memArgLane ? ins.c : ins.a,
    lanes: imm === Imm.shuffle ? Uint8Array.from(ins.bytes) : undefined, memOffset: memory ? ins.b : undefined,
  };
  reader.read(ins);
  return ins.op === 0x0b && reader.pos === code.codeEnd ? op : undefined;
}

/** Writes a spec value into the stack at `slot`; returns the slots it took. */
function put(v: V128Lanes, slot: number, value: SpecValue): number {
  if (value.type === 'v128') {
    const bits = LANE_BITS[value.lane_type!]!;
    const lanes = value.value as string[];
    lanes.forEach((s, i) => {
      const x = BigInt.asUintN(bits, BigInt(s));
      for (let k = 0; k < bits / 8; k++) v.u8[8 * slot + (i * bits) / 8 + k] = Number((x >> BigInt(8 * k)) & 0xffn);
    });
    return 2;
  }
  v.u64[slot] = BigInt.asUintN(64, BigInt(value.value as string));
  return 1;
}

function lanePattern(v: V128Lanes, slot: number, laneType: string, i: number): bigint {
  const bits = LANE_BITS[laneType]!;
  let x = 0n;
  for (let k = bits / 8 - 1; k >= 0; k--) x = (x << 8n) | BigInt(v.u8[8 * slot + (i * bits) / 8 + k]);
  return x;
}

function matches(bits: number, actual: bigint, expected: string, float: boolean): boolean {
  if (float && expected.startsWith('nan:')) {
    const exp = bits === 32 ? 0x7f800000n : 0x7ff0000000000000n;
    const quiet = bits === 32 ? 0x400000n : 0x8000000000000n;
    const payload = bits === 32 ? 0x7fffffn : 0xfffffffffffffn;
    if ((actual & exp) !== exp || (actual & quiet) === 0n) return false;
    return expected === 'nan:arithmetic' || (actual & payload) === quiet;
  }
  return actual === BigInt.asUintN(bits, BigInt(expected));
}

function check(v: V128Lanes, slot: number, expected: SpecValue): boolean {
  if (expected.type === 'v128') {
    const lt = expected.lane_type!;
    return (expected.value as string[]).every((e, i) => matches(LANE_BITS[lt]!, lanePattern(v, slot, lt, i), e, lt[0] === 'f'));
  }
  const bits = expected.type === 'i64' || expected.type === 'f64' ? 64 : 32;
  const actual = BigInt.asUintN(bits, v.u64[slot]!);
  return matches(bits, actual, expected.value as string, expected.type[0] === 'f');
}

specSuite.register(test, 'the SIMD semantics table gives what the spec scripts expect', () => {
  const scripts = readdirSync(SPEC_SUITE_DIR).filter((f) => f.startsWith('simd_') && f.endsWith('.json')).sort();
  const v = new V128Lanes(new ArrayBuffer(8 * 32));
  let evaluated = 0;
  const failures: string[] = [];
  const seenOps = new Set<number>();
  for (const script of scripts) {
    const commands = (JSON.parse(readFileSync(join(SPEC_SUITE_DIR, script), 'utf8')) as { commands: Command[] }).commands;
    let module: Module | undefined;
    let memory: Uint8Array | undefined;
    for (const cmd of commands) {
      if (cmd.type === 'module') {
        try { module = decodeModule(readFileSync(join(SPEC_SUITE_DIR, cmd.filename!))); } catch { module = undefined; }
        memory = module && initialMemory(module);
        continue;
      }
      const trap = cmd.type === 'assert_trap';
      if ((cmd.type !== 'assert_return' && !trap) || cmd.action?.type !== 'invoke' || cmd.action.module !== undefined || !module) continue;
      const exp = module.exports.find((e) => e.kind === 'func' && e.name === cmd.action!.field);
      if (!exp) continue;
      const op = singleOp(module, exp.index);
      const type = module.types[module.numImportedFuncs > exp.index ? -1 : module.funcs[exp.index - module.numImportedFuncs]!];
      if (!op || !type) continue;
      const isMemory = op.memOffset !== undefined;
      if (isMemory ? memory === undefined : op.lanes === undefined && SIMD_OPS[op.sub] === undefined) continue;
      // A store returns nothing: it is run for its effect on the memory the next loads see.
      const isStore = op.sub === 0x0b || (op.sub >= 0x58 && op.sub <= 0x5b);
      if (!trap && type.results.length !== (isStore ? 0 : 1)) continue;
      // Parameters at slot 0 on; the operands pushed after them, as a run loop would.
      const args = cmd.action.args ?? [];
      const paramSlots: number[] = [];
      let slot = 0;
      args.forEach((arg) => { paramSlots.push(slot); slot += put(v, slot, arg); });
      const operandSlots: number[] = [];
      for (const local of op.operands) {
        operandSlots.push(slot);
        const size = type.params[local] === ValType.v128 ? 2 : 1;
        for (let k = 0; k < size; k++) v.f64[slot + k] = 0;
        for (let k = 0; k < 2 * size; k++) v.i32[2 * slot + k] = v.i32[2 * paramSlots[local]! + k]!;
        slot += size;
      }
      const [a = 0, b = 0, c = 0] = operandSlots;
      let trapped = false;
      try {
        if (isMemory) simdMemory(op.sub, v, memory!, (v.u32[2 * a]! >>> 0) + (op.memOffset! >>> 0), a, b, op.lane);
        else if (op.lanes) shuffle(v, a, a, b, op.lanes);
        else SIMD_OPS[op.sub]!(v, a, a, b, c, op.lane);
      } catch (error) {
        if (!(error instanceof Trap)) throw error;
        trapped = true;
      }
      seenOps.add(op.sub);
      evaluated++;
      if (trap ? !trapped : trapped || (!isStore && !check(v, a, cmd.expected![0]!))) {
        failures.push(`${script}:${cmd.line} ${OPS[PREFIX_FD + op.sub]!.name}`);
      }
    }
  }
  console.log(`  ${evaluated} spec assertions evaluated on ${seenOps.size} SIMD instructions, ${failures.length} failed`);
  assert.ok(evaluated > 10000, `only ${evaluated} assertions evaluated`);
  const byOp = new Map<string, number>();
  for (const f of failures) { const name = f.split(" ")[1]!; byOp.set(name, (byOp.get(name) ?? 0) + 1); }
  assert.equal(Object.fromEntries(byOp), {}, failures.slice(0, 5).join(", "));
});

test.run();
