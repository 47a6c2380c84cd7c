/**
 * Unwinding: as native code unwinds, every function saves its locals and operand stack
 * at its safepoint through the host's helpers, innermost first (`FrameRecorder`);
 * `canonicalFrames` turns those records into canonical frames, bottom first, which the
 * interpreter, the snapshot layer and the resume clones all take.
 */
import { LinkError, Trap } from '../errors/index.ts';
import { ValType } from '../wasm/index.ts';
import type { CanonicalFrame, CanonicalValue, IndexSpace } from '../snapshot/index.ts';
import type { FrameRecord, NativeInstance } from './native-instance.ts';
import type { RewrittenFunction, Safepoint } from './rewrite-function.ts';
import type { NativeValues } from './values.ts';

/** The frames of one unwinding, as native code saves them. */
export class FrameRecorder {
  private records: FrameRecord[] = [];
  private current: FrameRecord | undefined;

  /** The next frame (outward) begins: function `funcIndex` of `native` at safepoint `site`. */
  frame(native: NativeInstance, info: RewrittenFunction, funcIndex: number, site: number): void {
    this.current = { native, info, funcIndex, site, values: [] };
    this.records.push(this.current);
  }

  /** The current frame's next saved value (locals first, then its operand stack). */
  value(v: unknown): void {
    this.current!.values.push(v);
  }

  /** True when no frame has been recorded since the last `take` or `clear`. */
  get empty(): boolean {
    return this.records.length === 0;
  }

  /** The frames recorded, bottom first; the recorder starts afresh. */
  take(): FrameRecord[] {
    const frames = this.records.reverse();
    this.clear();
    return frames;
  }

  clear(): void {
    this.records = [];
    this.current = undefined;
  }
}

/**
 * The unwound frames in canonical form, bottom first, in the terms of `space`
 * (function indices and funcref values map through it).
 */
export function canonicalFrames(records: readonly FrameRecord[], space: IndexSpace, values: NativeValues): CanonicalFrame[] {
  const out: CanonicalFrame[] = [];
  const top = records.length - 1;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const info = r.info;
    const site = info.sites[r.site];
    const addr = r.native.state.funcAddrs[r.funcIndex];
    const funcIndex = space.funcIndexOf[addr];
    if (funcIndex === undefined || funcIndex < 0) throw new LinkError(`native tier: function address ${addr} is outside the index space`);
    const locals: CanonicalValue[] = new Array(info.numLocals);
    for (let j = 0; j < info.numLocals; j++) locals[j] = values.canonical(info.localTypes[j], r.values[j], space);
    const n = site.stack.length - (i === top ? 0 : site.results);
    const stack: CanonicalValue[] = new Array(n);
    for (let j = 0; j < n; j++) {
      stack[j] = site.types[j] === ValType.exnref ? caughtException(r, site.stack[j], site.pc, values) : values.canonical(site.types[j], r.values[site.stack[j]], space);
    }
    out.push({ funcIndex, pc: site.pc, locals, stack });
  }
  return out;
}

/** The operand stack a resume clone takes at a safepoint: for a call, the values below its arguments and its results. */
export function cloneStackTypes(site: Safepoint): number[] {
  if (site.kind !== 'call') return Array.from(site.types);
  return [...site.types.subarray(0, site.types.length - site.results), ...site.callResults];
}

/**
 * The exception a legacy catch handler of frame `r` holds, from its recording area at
 * saved value `area` (which tag, then every tag's values: see `rewrite-function.ts`),
 * added to the store as the interpreter's handler would hold it: the canonical exnref
 * of a native frame is its store index (see `NativeExecution`).
 * @throws Trap when the handler caught an exception of a tag its module does not
 *   know (another module's, caught by a `catch_all`): its values cannot be read there.
 */
function caughtException(r: FrameRecord, area: number, pc: number, values: NativeValues): number {
  const inst = r.native.state;
  const ctx = r.native.instance.compiled.context;
  const which = r.values[area] as number;
  if (which < 0 || which >= inst.tagAddrs.length) {
    throw new Trap(`the native tier cannot save a catch_all handler holding an exception of another module's tag: function ${r.funcIndex} at byte 0x${pc.toString(16)}`);
  }
  let at = area + 1;
  for (let j = 0; j < which; j++) at += ctx.types[ctx.tagTypeIndices[j]].params.length;
  const params = ctx.types[ctx.tagTypeIndices[which]].params;
  const payload = new Int32Array(2 * params.length);
  values.entryListToSlots(params, r.values.slice(at, at + params.length), payload, 0);
  const exceptions = values.state.exceptions;
  exceptions.push({ tagAddr: inst.tagAddrs[which], payload, kept: false });
  return exceptions.length - 1;
}
