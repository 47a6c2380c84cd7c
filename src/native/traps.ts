/**
 * Traps from native code in the interpreter's terms: V8's messages in the spec's
 * wording, and V8's stack trace mapped back to the original module's functions and
 * byte offsets.
 */
import { ExhaustionError, Trap } from '../errors/index.ts';
import type { TraceFrame } from '../errors/index.ts';
import type { InstanceState } from '../exec/index.ts';
import type { NativeInstance } from './native-instance.ts';
import { HELPER_IMPORTS, MODULE_NAME, originalOffset, RESUME_MODULE_PREFIX } from './rewrite.ts';
import type { RewrittenFunction } from './rewrite-function.ts';

/** Maps V8's trap messages to the spec's wording (the interpreter's). */
export function toTrap(error: unknown): unknown {
  if (error instanceof WebAssembly.RuntimeError) {
    const m = error.message;
    const text =
      /unreachable/.test(m) ? 'unreachable' :
      /divide by zero|remainder by zero/.test(m) ? 'integer divide by zero' :
      /divide result unrepresentable|integer overflow/.test(m) ? 'integer overflow' :
      /float unrepresentable|convert/.test(m) ? 'invalid conversion to integer' :
      /memory access out of bounds|data segment/.test(m) ? 'out of bounds memory access' :
      /table index is out of bounds|table access out of bounds|element segment/.test(m) ? 'out of bounds table access' :
      /null function|uninitialized/.test(m) ? 'uninitialized element' :
      /signature mismatch|function signature/.test(m) ? 'indirect call type mismatch' :
      m;
    const trap = new Trap(text);
    (trap as { cause?: unknown }).cause = error;
    return trap;
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return new ExhaustionError();
  return error;
}

/**
 * The Wasm frames of a V8 stack trace, mapped back to the original module (one
 * attached instance only: with several, V8's function indices are ambiguous).
 */
export function nativeBacktrace(error: Error, instances: ReadonlyMap<InstanceState, NativeInstance>): TraceFrame[] {
  if (instances.size !== 1) return [];
  const native = instances.values().next().value as NativeInstance;
  const m = native.instance.compiled.module;
  const shift = native.rewritten.plain === true ? 0 : HELPER_IMPORTS.length;
  const trace: TraceFrame[] = [];
  for (const match of (error.stack ?? '').matchAll(/wasm:\/\/wasm\/(?:([^:]*)-)?[0-9a-f]+:wasm-function\[(\d+)\]:0x([0-9a-f]+)/g)) {
    const name = match[1] ?? '';
    const index = Number(match[2]);
    const offset = parseInt(match[3], 16);
    let info: RewrittenFunction | undefined;
    if (name === MODULE_NAME) {
      if (index < m.numImportedFuncs + shift) continue;
      info = native.rewritten.functions[index - shift];
    } else if (name.startsWith(RESUME_MODULE_PREFIX)) {
      const [f, pc] = name.slice(RESUME_MODULE_PREFIX.length).split('-').map(Number);
      info = native.clones.get(`${f}:${pc}`)?.info;
    }
    if (info === undefined) continue; // a helper (an entry trampoline), or another module
    trace.push({ funcIndex: info.funcIndex, name: native.state.names.get(info.funcIndex), offset: originalOffset(info, offset) });
  }
  return trace;
}
