/**
 * The fast code's i64, float and conversion instructions: one instruction, its next pc
 * returned (-1 for an opcode that is not one of them). They live here rather than in
 * `runFastLoop` for the sake of V8's optimizing compiler: its time grows with the size of
 * the function, and the run loop runs at 1-2% of its speed until that compile is done,
 * again after every deoptimization (docs/interpreter-warm-up.md). Out of the loop, they
 * cost a call each.
 */
import { conversionTrap } from './numeric.ts';

export function stepWide(op: number, code: Int32Array, pc: number, F: number, s32: Int32Array, f32: Float32Array, f64: Float64Array): number {
  switch (op) {
    // ---- i64 ----
    case 0x50: { const a = F + code[pc + 2]; s32[F + code[pc + 1]] = (s32[a] | s32[a + 1]) === 0 ? 1 : 0; pc += 3; break; }
    case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5a: {
      const a = F + code[pc + 2], b = F + code[pc + 3];
      const ahi = s32[a + 1], bhi = s32[b + 1], alo = s32[a] >>> 0, blo = s32[b] >>> 0;
      let r: boolean;
      switch (op) {
        case 0x51: r = ahi === bhi && alo === blo; break;
        case 0x52: r = ahi !== bhi || alo !== blo; break;
        case 0x53: r = ahi < bhi || (ahi === bhi && alo < blo); break;
        case 0x54: r = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo < blo); break;
        case 0x55: r = ahi > bhi || (ahi === bhi && alo > blo); break;
        case 0x56: r = ahi >>> 0 > bhi >>> 0 || (ahi === bhi && alo > blo); break;
        case 0x57: r = ahi < bhi || (ahi === bhi && alo <= blo); break;
        case 0x58: r = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo <= blo); break;
        case 0x59: r = ahi > bhi || (ahi === bhi && alo >= blo); break;
        default: r = ahi >>> 0 > bhi >>> 0 || (ahi === bhi && alo >= blo); break;
      }
      s32[F + code[pc + 1]] = r ? 1 : 0;
      pc += 4;
      break;
    }
    case 0x79: {
      const d = F + code[pc + 1], a = F + code[pc + 2];
      const hi = s32[a + 1];
      s32[d] = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(s32[a]);
      s32[d + 1] = 0;
      pc += 3;
      break;
    }
    case 0x7a: {
      const d = F + code[pc + 1], a = F + code[pc + 2];
      const lo = s32[a];
      const x = lo !== 0 ? lo : s32[a + 1];
      s32[d] = (lo !== 0 ? 0 : 32) + (x === 0 ? 32 : 31 - Math.clz32(x & -x));
      s32[d + 1] = 0;
      pc += 3;
      break;
    }
    case 0x7b: {
      const d = F + code[pc + 1], a = F + code[pc + 2];
      let x = s32[a], y = s32[a + 1];
      x = x - ((x >>> 1) & 0x55555555);
      y = y - ((y >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      y = (y & 0x33333333) + ((y >>> 2) & 0x33333333);
      x = (x + (x >>> 4)) & 0x0f0f0f0f;
      y = (y + (y >>> 4)) & 0x0f0f0f0f;
      s32[d] = (Math.imul(x, 0x01010101) >>> 24) + (Math.imul(y, 0x01010101) >>> 24);
      s32[d + 1] = 0;
      pc += 3;
      break;
    }
    case 0x7c: {
      const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
      const lo = (s32[a] >>> 0) + (s32[b] >>> 0);
      s32[d + 1] = (s32[a + 1] + s32[b + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
      s32[d] = lo | 0;
      pc += 4;
      break;
    }
    case 0x7d: {
      const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
      const lo = (s32[a] >>> 0) - (s32[b] >>> 0);
      s32[d + 1] = (s32[a + 1] - s32[b + 1] - (lo < 0 ? 1 : 0)) | 0;
      s32[d] = lo | 0;
      pc += 4;
      break;
    }
    case 0x7e: {
      // 64-bit product from 32-bit halves (no BigInt): the low word is imul's; the high
      // word is the high half of lo x lo (from 16-bit pieces, exact in doubles) plus the
      // low halves of the cross products.
      const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
      const alo = s32[a], blo = s32[b];
      const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
      const p01 = a0 * b1, p10 = a1 * b0;
      const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
      const high = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
      s32[d + 1] = (high + Math.imul(alo, s32[b + 1]) + Math.imul(s32[a + 1], blo)) | 0;
      s32[d] = Math.imul(alo, blo);
      pc += 4;
      break;
    }
    case 0x83: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] & s32[b]; s32[d + 1] = s32[a + 1] & s32[b + 1]; pc += 4; break; }
    case 0x84: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] | s32[b]; s32[d + 1] = s32[a + 1] | s32[b + 1]; pc += 4; break; }
    case 0x85: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] ^ s32[b]; s32[d + 1] = s32[a + 1] ^ s32[b + 1]; pc += 4; break; }
    case 0x86: case 0x87: case 0x88: {
      const d = F + code[pc + 1], a = F + code[pc + 2];
      const k = s32[F + code[pc + 3]] & 63;
      const lo = s32[a], hi = s32[a + 1];
      let rlo = lo, rhi = hi;
      if (k !== 0) {
        if (op === 0x86) {
          if (k < 32) { rhi = (hi << k) | (lo >>> (32 - k)); rlo = lo << k; } else { rhi = lo << (k - 32); rlo = 0; }
        } else if (op === 0x87) {
          if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >> k; } else { rlo = hi >> (k - 32); rhi = hi >> 31; }
        } else {
          if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >>> k; } else { rlo = hi >>> (k - 32); rhi = 0; }
        }
      }
      s32[d] = rlo; s32[d + 1] = rhi;
      pc += 4;
      break;
    }
    case 0x89: case 0x8a: {
      const d = F + code[pc + 1], a = F + code[pc + 2];
      let k = s32[F + code[pc + 3]] & 63;
      if (op === 0x8a) k = (64 - k) & 63;
      let lo = s32[a], hi = s32[a + 1];
      if (k >= 32) { const tmp = lo; lo = hi; hi = tmp; k -= 32; }
      if (k !== 0) {
        const nhi = (hi << k) | (lo >>> (32 - k));
        const nlo = (lo << k) | (hi >>> (32 - k));
        hi = nhi; lo = nlo;
      }
      s32[d] = lo; s32[d + 1] = hi;
      pc += 4;
      break;
    }

    // ---- floats ----
    case 0x5b: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] === f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x5c: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] !== f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x5d: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] < f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x5e: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] > f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x5f: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] <= f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x60: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] >= f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
    case 0x61: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] === f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x62: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] !== f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x63: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] < f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x64: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] > f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x65: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] <= f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x66: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] >= f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
    case 0x8b: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & 0x7fffffff; pc += 3; break;
    case 0x8c: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ -0x80000000; pc += 3; break;
    case 0x8d: f32[F + code[pc + 1]] = Math.ceil(f32[F + code[pc + 2]]); pc += 3; break;
    case 0x8e: f32[F + code[pc + 1]] = Math.floor(f32[F + code[pc + 2]]); pc += 3; break;
    case 0x8f: f32[F + code[pc + 1]] = Math.trunc(f32[F + code[pc + 2]]); pc += 3; break;
    case 0x91: f32[F + code[pc + 1]] = Math.sqrt(f32[F + code[pc + 2]]); pc += 3; break;
    case 0x92: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] + f32[F + code[pc + 3]]; pc += 4; break;
    case 0x93: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] - f32[F + code[pc + 3]]; pc += 4; break;
    case 0x94: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] * f32[F + code[pc + 3]]; pc += 4; break;
    case 0x95: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] / f32[F + code[pc + 3]]; pc += 4; break;
    case 0x96: f32[F + code[pc + 1]] = Math.min(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
    case 0x97: f32[F + code[pc + 1]] = Math.max(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
    case 0x98: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] & 0x7fffffff) | (s32[F + code[pc + 3]] & -0x80000000); pc += 4; break;
    case 0x99: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] & 0x7fffffff; pc += 3; break; }
    case 0x9a: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] ^ -0x80000000; pc += 3; break; }
    case 0x9b: { const d = F + code[pc + 1]; const r = Math.ceil(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
    case 0x9c: { const d = F + code[pc + 1]; const r = Math.floor(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
    case 0x9d: { const d = F + code[pc + 1]; const r = Math.trunc(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
    case 0x9f: f64[(F + code[pc + 1]) >> 1] = Math.sqrt(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
    case 0xa0: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] + f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
    case 0xa1: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] - f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
    case 0xa2: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] * f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
    case 0xa3: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] / f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
    case 0xa4: f64[(F + code[pc + 1]) >> 1] = Math.min(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
    case 0xa5: f64[(F + code[pc + 1]) >> 1] = Math.max(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
    case 0xa6: {
      const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
      s32[d] = s32[a];
      s32[d + 1] = (s32[a + 1] & 0x7fffffff) | (s32[b + 1] & -0x80000000);
      pc += 4;
      break;
    }

    // ---- conversions ----
    case 0xa7: case 0xbc: case 0xbe: s32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
    case 0xbd: case 0xbf: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1]; pc += 3; break; }
    // `x | 0` truncates toward zero and wraps: exact for every x the range checks let through.
    case 0xa8: { const x = f32[F + code[pc + 2]]; if (!(x > -2147483649 && x < 2147483648)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
    case 0xa9: { const x = f32[F + code[pc + 2]]; if (!(x > -1 && x < 4294967296)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
    case 0xaa: { const x = f64[(F + code[pc + 2]) >> 1]; if (!(x > -2147483649 && x < 2147483648)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
    case 0xab: { const x = f64[(F + code[pc + 2]) >> 1]; if (!(x > -1 && x < 4294967296)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
    case 0xac: { const d = F + code[pc + 1], v = s32[F + code[pc + 2]]; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
    case 0xad: { const d = F + code[pc + 1]; s32[d] = s32[F + code[pc + 2]]; s32[d + 1] = 0; pc += 3; break; }
    case 0xb2: f32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
    case 0xb3: f32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
    case 0xb6: f32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1]; pc += 3; break;
    case 0xb7: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]]; pc += 3; break;
    case 0xb8: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
    // hi x 2^32 and lo are exact doubles: their sum rounds once, as the spec wants.
    case 0xb9: { const a = F + code[pc + 2]; f64[(F + code[pc + 1]) >> 1] = s32[a + 1] * 4294967296 + (s32[a] >>> 0); pc += 3; break; }
    case 0xba: { const a = F + code[pc + 2]; f64[(F + code[pc + 1]) >> 1] = (s32[a + 1] >>> 0) * 4294967296 + (s32[a] >>> 0); pc += 3; break; }
    case 0xbb: f64[(F + code[pc + 1]) >> 1] = f32[F + code[pc + 2]]; pc += 3; break;
    case 0xc0: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] << 24) >> 24; pc += 3; break;
    case 0xc1: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] << 16) >> 16; pc += 3; break;
    case 0xc2: { const d = F + code[pc + 1], v = (s32[F + code[pc + 2]] << 24) >> 24; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
    case 0xc3: { const d = F + code[pc + 1], v = (s32[F + code[pc + 2]] << 16) >> 16; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
    case 0xc4: { const d = F + code[pc + 1], v = s32[F + code[pc + 2]]; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
    case 0x100: { const x = f32[F + code[pc + 2]]; s32[F + code[pc + 1]] = x !== x ? 0 : x <= -2147483648 ? -2147483648 : x >= 2147483647 ? 2147483647 : x | 0; pc += 3; break; }
    case 0x101: { const x = f32[F + code[pc + 2]]; s32[F + code[pc + 1]] = x !== x || x <= 0 ? 0 : x >= 4294967295 ? -1 : x | 0; pc += 3; break; }
    case 0x102: { const x = f64[(F + code[pc + 2]) >> 1]; s32[F + code[pc + 1]] = x !== x ? 0 : x <= -2147483648 ? -2147483648 : x >= 2147483647 ? 2147483647 : x | 0; pc += 3; break; }
    case 0x103: { const x = f64[(F + code[pc + 2]) >> 1]; s32[F + code[pc + 1]] = x !== x || x <= 0 ? 0 : x >= 4294967295 ? -1 : x | 0; pc += 3; break; }
    default:
      return -1;
  }
  return pc;
}
