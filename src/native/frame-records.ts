/**
 * Unwinding: as native code unwinds, every function saves its locals and operand stack
 * at its safepoint through the host's helpers, innermost first (`FrameRecorder`);
 * `canonicalFrames` turns those records into canonical frames, bottom first, which the
 * interpreter, the snapshot layer and the resume clones all take.
 */
import { LinkError } from '../errors/index.ts';
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
    for (let j = 0; j < n; j++) stack[j] = values.canonical(site.types[j], r.values[site.stack[j]], space);
    out.push({ funcIndex, pc: site.pc, locals, stack });
  }
  return out;
}

/** The operand stack a resume clone takes at a safepoint: for a call, the values below its arguments and its results. */
export function cloneStackTypes(site: Safepoint): number[] {
  if (site.kind !== 'call') return Array.from(site.types);
  return [...site.types.subarray(0, site.types.length - site.results), ...site.callResults];
}
