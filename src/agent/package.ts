import { Encoder } from '@msgpack/msgpack';
import { decodeBoundedMsgpack } from '../snapshot/index.ts';
import { ProtocolError } from './messages.ts';
import type { PortableLog } from './output-log.ts';

/**
 * What a handoff carries besides the module, as msgpack blobs whose sha256 is in the
 * signed message that announces them (`round`, `final`):
 * - a pre-copy round: one block delta per memory (`snapshot/memory-image.ts`) and the
 *   output logged since the last blob;
 * - the final blob: the last deltas and output, and the snapshot of the paused job
 *   without its memory, which the deltas complete at the target.
 * Both are untrusted at the target: the deltas and snapshot are validated by the
 * snapshot layer when applied, the log by `OutputLog`.
 */
export interface RoundPackage {
  deltas: Uint8Array[];
  log: PortableLog;
}

export interface FinalPackage extends RoundPackage {
  snapshot: Uint8Array;
}

const PACKAGE_VERSION = 2;
/**
 * Heap a package's decoded values may take beyond its own size: its deltas and snapshot
 * are views of the blob, so only the log's entries and the map cost anything.
 */
const DECODE_SLACK_BYTES = 16 * 1024 * 1024;

/** Most bytes msgpack takes around a value besides its own: a bin or array header (5), an integer (9). */
const HEADER_BYTES = 9;

/**
 * At least the bytes a package encodes to: its binaries, each with a header, and each
 * log entry's array, number and stream.
 */
function sizeBound(p: RoundPackage & { snapshot?: Uint8Array }): number {
  let n = 64 + (p.snapshot ? p.snapshot.length + HEADER_BYTES : 0);
  for (const d of p.deltas) n += d.length + HEADER_BYTES;
  for (const [, , data] of p.log.entries) n += data.length + 3 * HEADER_BYTES;
  return n;
}

/**
 * Encodes into one buffer of the package's bounded size. msgpack's `encode` starts at
 * 2 KiB and, each time a binary does not fit, moves to a buffer twice the size needed:
 * a 4 MiB package cost 8 MiB of the agent's memory (the one it was returned in, which
 * its view pins while it is sent) plus what the smaller ones were, all garbage a move
 * leaves on the main thread for the collector (README, *Soak*).
 */
function encodePackage(p: RoundPackage & { snapshot?: Uint8Array }, value: Record<string, unknown>): Uint8Array {
  return new Encoder({ initialBufferSize: sizeBound(p) }).encodeSharedRef(value);
}

export function encodeRound(p: RoundPackage): Uint8Array {
  return encodePackage(p, { v: PACKAGE_VERSION, deltas: p.deltas, log: p.log });
}

export function encodeFinal(p: FinalPackage): Uint8Array {
  return encodePackage(p, { v: PACKAGE_VERSION, deltas: p.deltas, log: p.log, snapshot: p.snapshot });
}

function decodeMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  let x: unknown;
  try {
    x = decodeBoundedMsgpack(bytes, { budget: bytes.length + DECODE_SLACK_BYTES, what: 'it' });
  } catch (error) {
    throw new ProtocolError(`the ${what} does not decode: ${(error as Error).message}`);
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ProtocolError(`the ${what} is not a map`);
  const o = x as Record<string, unknown>;
  if (o.v !== PACKAGE_VERSION) throw new ProtocolError(`${what} version ${String(o.v)} (expected ${PACKAGE_VERSION})`);
  if (!Array.isArray(o.deltas) || !o.deltas.every((d) => d instanceof Uint8Array)) throw new ProtocolError(`the ${what} has no memory deltas`);
  return o;
}

/** Decodes a round's blob (untrusted bytes): a bad one throws {@link ProtocolError}. */
export function decodeRound(bytes: Uint8Array): RoundPackage {
  const o = decodeMap(bytes, 'pre-copy round');
  return { deltas: o.deltas as Uint8Array[], log: o.log as PortableLog };
}

/** Decodes the final blob (untrusted bytes): a bad one throws {@link ProtocolError}. */
export function decodeFinal(bytes: Uint8Array): FinalPackage {
  const o = decodeMap(bytes, 'final handoff package');
  if (!(o.snapshot instanceof Uint8Array)) throw new ProtocolError('the final handoff package has no snapshot');
  return { deltas: o.deltas as Uint8Array[], log: o.log as PortableLog, snapshot: o.snapshot };
}
