/**
 * Decoder throughput: `decodeModule` alone, then every function body read with
 * `InstructionReader`.
 *
 * Usage: npx tsx tools/bench/decode.ts [module.wasm]
 * Without an argument it builds a synthetic module of about 1 MB of code.
 */
import { readFileSync } from 'node:fs';
import { createInstr, decodeModule, InstructionReader } from '../../src/binary/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32, s64, u32 } from '../../test/helpers/module-builder.ts';
import { median } from './stats.ts';

/** A body with a compiler-like instruction mix (not valid code: only decoding is measured). */
function syntheticBody(seed: number): number[] {
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const code: number[] = [];
  for (let i = 0; i < 120; i++) {
    switch (rand(12)) {
      case 0: case 1: case 2: code.push(0x20, ...u32(rand(40))); break; // local.get
      case 3: code.push(0x21, ...u32(rand(40))); break; // local.set
      case 4: code.push(0x41, ...s32(rand(1 << 20) - (1 << 19))); break; // i32.const
      case 5: code.push(0x28, 0x02, ...u32(rand(4096))); break; // i32.load
      case 6: code.push(0x36, 0x02, ...u32(rand(4096))); break; // i32.store
      case 7: code.push(0x6a + rand(14)); break; // i32 binary ops
      case 8: code.push(0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b); break; // block, br_if, end
      case 9: code.push(0x10, ...u32(rand(2000))); break; // call
      case 10: code.push(0x42, ...s64(BigInt(rand(1 << 30)) * 1000003n)); break; // i64.const
      case 11: code.push(0x0e, 0x04, 0x00, 0x01, 0x02, 0x03, 0x00); break; // br_table
    }
  }
  code.push(0x0b);
  return code;
}

function syntheticModule(targetBytes: number): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32, ValType.i32], [ValType.i32]);
  b.memory(1);
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const body = syntheticBody(i + 1);
    size += body.length;
    b.func(t, body, [ValType.i32, ValType.i64, ValType.f64]);
  }
  return b.build();
}

function main(): void {
  const path = process.argv[2];
  const bytes = path !== undefined ? new Uint8Array(readFileSync(path)) : syntheticModule(1 << 20);
  const m = decodeModule(bytes);
  let codeBytes = 0;
  for (const c of m.codes) codeBytes += c.codeEnd - c.codeStart;
  console.log(`${path ?? 'synthetic module'}: ${(bytes.length / 1048576).toFixed(2)} MB, ${m.codes.length} functions, ${(codeBytes / 1048576).toFixed(2)} MB of code`);

  const decodeTimes: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    decodeModule(bytes);
    decodeTimes.push(performance.now() - t0);
  }
  console.log(`decodeModule: median ${median(decodeTimes).toFixed(2)} ms, first run ${decodeTimes[0]!.toFixed(2)} ms`);

  const instr = createInstr();
  const readTimes: number[] = [];
  let count = 0;
  for (let i = 0; i < 10; i++) {
    count = 0;
    const t0 = performance.now();
    for (const c of m.codes) {
      const r = new InstructionReader(bytes, c.codeStart, c.codeEnd);
      while (r.pos < c.codeEnd) { r.read(instr); count++; }
    }
    readTimes.push(performance.now() - t0);
  }
  const t = median(readTimes);
  console.log(`read every body: median ${t.toFixed(2)} ms, first run ${readTimes[0]!.toFixed(2)} ms, ${count} instructions (${(count / t / 1000).toFixed(1)} M/s)`);
}

main();
