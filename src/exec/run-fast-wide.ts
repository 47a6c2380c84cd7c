/**
 * The fast code's i64, float and conversion instructions (but the four that trap), out
 * of `runFastLoop` for the sake of V8's optimizing compiler: its time grows with the size
 * of the function, and the run loop runs at 1-2% of its speed until that compile is done,
 * and again after every deoptimization (docs/interpreter-warm-up.md).
 *
 * Runs the instructions from `pc` on while they are of this kind, and returns the pc of
 * the first that is not (`pc` itself when that is the first): a call per run of them, not
 * per instruction, since such code comes in runs (a float expression, 64-bit arithmetic).
 * None of them traps or touches fuel, memory or the frame, so the loop needs nothing else.
 */
export function stepWide(code: Int32Array, pc: number, F: number, s32: Int32Array, f32: Float32Array, f64: Float64Array): number {
  for (;;) {
    const op = code[pc];
    switch (op) {
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

      case 0x8b: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & 0x7fffffff; pc += 3; break;
      case 0x8c: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ -0x80000000; pc += 3; break;
      case 0x8d: f32[F + code[pc + 1]] = Math.ceil(f32[F + code[pc + 2]]); pc += 3; break;
      case 0x8e: f32[F + code[pc + 1]] = Math.floor(f32[F + code[pc + 2]]); pc += 3; break;
      case 0x8f: f32[F + code[pc + 1]] = Math.trunc(f32[F + code[pc + 2]]); pc += 3; break;
      case 0x91: f32[F + code[pc + 1]] = Math.sqrt(f32[F + code[pc + 2]]); pc += 3; break;
      case 0x96: f32[F + code[pc + 1]] = Math.min(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
      case 0x97: f32[F + code[pc + 1]] = Math.max(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
      case 0x98: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] & 0x7fffffff) | (s32[F + code[pc + 3]] & -0x80000000); pc += 4; break;
      case 0x99: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] & 0x7fffffff; pc += 3; break; }
      case 0x9a: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] ^ -0x80000000; pc += 3; break; }
      case 0x9b: { const d = F + code[pc + 1]; const r = Math.ceil(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
      case 0x9c: { const d = F + code[pc + 1]; const r = Math.floor(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
      case 0x9d: { const d = F + code[pc + 1]; const r = Math.trunc(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
      case 0x9f: f64[(F + code[pc + 1]) >> 1] = Math.sqrt(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
      case 0xa4: f64[(F + code[pc + 1]) >> 1] = Math.min(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
      case 0xa5: f64[(F + code[pc + 1]) >> 1] = Math.max(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
      case 0xa6: {
        const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
        s32[d] = s32[a];
        s32[d + 1] = (s32[a + 1] & 0x7fffffff) | (s32[b + 1] & -0x80000000);
        pc += 4;
        break;
      }

      case 0xbd: case 0xbf: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1]; pc += 3; break; }
      // hi x 2^32 and lo are exact doubles: their sum rounds once, as the spec wants.
      case 0xb9: { const a = F + code[pc + 2]; f64[(F + code[pc + 1]) >> 1] = s32[a + 1] * 4294967296 + (s32[a] >>> 0); pc += 3; break; }
      case 0xba: { const a = F + code[pc + 2]; f64[(F + code[pc + 1]) >> 1] = (s32[a + 1] >>> 0) * 4294967296 + (s32[a] >>> 0); pc += 3; break; }
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
        return pc;
    }
  }
}
