/**
 * Instruction bytes from opcode names, for tests that state a function body as text:
 *
 * ```ts
 * assemble('local.get 0 i32.const 5 i32.add end')          // [0x20, 0, 0x41, 5, 0x6a, 0x0b]
 * assemble('block i32 ... end  br_table 0 1 0  i32.load offset=8  call_indirect 2 0')
 * ```
 *
 * Names are those of the one opcode table (`src/wasm/opcodes.ts`); the immediates that
 * follow a name are read by its immediate kind: a block type is nothing, a value type or
 * `type=N`; `br_table` takes its targets then the default; a memarg is `offset=N` and
 * `align=N` (both optional, 0 by default); `ref.null` takes `func` or `extern`;
 * `select_t` its value types; `v128.const` and `i8x16.shuffle` 16 bytes; a lane
 * instruction its lane (after the memarg for lane loads and stores). Memory indices of Wasm 2.0 (always 0) are written for you.
 */
import { Imm, OPS, PREFIX_FC, PREFIX_FD } from '../../src/wasm/opcodes.ts';
import { ValType } from '../../src/wasm/types.ts';
import { f32, f64, s32, s64, u32 } from './module-builder.ts';

const CODES = new Map<string, number>();
for (const info of OPS) if (info !== undefined) CODES.set(info.name, info.code);

const VALUE_TYPES: Record<string, number> = {
  i32: ValType.i32, i64: ValType.i64, f32: ValType.f32, f64: ValType.f64, v128: ValType.v128,
  funcref: ValType.funcref, externref: ValType.externref,
};

/** The bytes of the instructions in `text` (whitespace-separated names and immediates). */
export function assemble(text: string): number[] {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  const out: number[] = [];
  let i = 0;
  /** The immediates after the current name: every token up to the next name. */
  const operands = (): string[] => {
    const start = i;
    while (i < tokens.length && !CODES.has(tokens[i]!)) i++;
    return tokens.slice(start, i);
  };
  while (i < tokens.length) {
    const name = tokens[i++]!;
    const code = CODES.get(name);
    if (code === undefined) throw new Error(`assemble: ${JSON.stringify(name)} is not an instruction`);
    out.push(...(code < PREFIX_FC ? [code] : code < PREFIX_FD ? [0xfc, ...u32(code - PREFIX_FC)] : [0xfd, ...u32(code - PREFIX_FD)]));
    out.push(...immediates(name, OPS[code]!.imm, operands()));
  }
  return out;
}

function immediates(name: string, imm: Imm, args: string[]): number[] {
  const int = (k: number): number => {
    const n = Number(args[k]);
    if (!Number.isInteger(n)) throw new Error(`assemble: ${name} needs an integer, got ${JSON.stringify(args[k])}`);
    return n;
  };
  const keyed = (key: string): number => {
    const arg = args.find((a) => a.startsWith(`${key}=`));
    return arg === undefined ? 0 : Number(arg.slice(key.length + 1));
  };
  const valueType = (t: string): number => {
    const v = VALUE_TYPES[t];
    if (v === undefined) throw new Error(`assemble: ${name}: ${JSON.stringify(t)} is not a value type`);
    return v;
  };
  switch (imm) {
    case Imm.none: return [];
    case Imm.blockType:
      if (args.length === 0) return [0x40];
      if (args[0]!.startsWith('type=')) return s32(keyed('type'));
      return [valueType(args[0]!)];
    case Imm.index: return u32(int(0));
    case Imm.brTable: {
      const labels = args.map((_, k) => int(k));
      return [...u32(labels.length - 1), ...labels.flatMap(u32)];
    }
    case Imm.callIndirect: return [...u32(int(0)), ...u32(args.length > 1 ? int(1) : 0)];
    case Imm.memArg: return [...u32(keyed('align')), ...u32(keyed('offset'))];
    case Imm.i32: return s32(int(0));
    case Imm.i64: return s64(BigInt(args[0]!));
    case Imm.f32: return f32(Number(args[0]));
    case Imm.f64: return f64(Number(args[0]));
    case Imm.selectTypes: return [...u32(args.length), ...args.map(valueType)];
    case Imm.refType: return [args[0] === 'extern' ? ValType.externref : ValType.funcref];
    case Imm.memIndex: return [0x00];
    case Imm.dataMem: return [...u32(int(0)), 0x00];
    case Imm.memMem: return [0x00, 0x00];
    case Imm.twoIndices: return [...u32(int(0)), ...u32(int(1))];
    case Imm.v128: case Imm.shuffle: {
      if (args.length !== 16) throw new Error(`assemble: ${name} needs 16 bytes`);
      return args.map((_, k) => int(k) & 0xff);
    }
    case Imm.lane: return [int(0)];
    case Imm.memArgLane: return [...u32(keyed('align')), ...u32(keyed('offset')), int(args.findIndex((a) => !a.includes('=')))];
    default: throw new Error(`assemble: ${name}: unknown immediate kind ${imm}`);
  }
}
