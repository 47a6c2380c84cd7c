import { decode, encode } from '@msgpack/msgpack';
import { ProtocolError } from './messages.ts';
import type { PortableLog } from './output-log.ts';

/**
 * What a migration carries besides the module: the snapshot (self-validating, from
 * src/snapshot) and the job's output log, so that a client re-attaching after the move
 * still gets everything. msgpack; the sha256 of these bytes is in the signed `prepare`.
 */
export interface MigrationPackage {
  snapshot: Uint8Array;
  log: PortableLog;
}

const PACKAGE_VERSION = 1;

export function encodePackage(p: MigrationPackage): Uint8Array {
  return encode({ v: PACKAGE_VERSION, snapshot: p.snapshot, log: p.log });
}

/** Decodes a package (untrusted bytes): a bad one throws {@link ProtocolError}. */
export function decodePackage(bytes: Uint8Array): MigrationPackage {
  let x: unknown;
  try {
    x = decode(bytes);
  } catch (error) {
    throw new ProtocolError(`the migration package does not decode: ${(error as Error).message}`);
  }
  const o = x as { v?: unknown; snapshot?: unknown; log?: unknown };
  if (typeof o !== 'object' || o === null) throw new ProtocolError('the migration package is not a map');
  if (o.v !== PACKAGE_VERSION) throw new ProtocolError(`migration package version ${String(o.v)} (expected ${PACKAGE_VERSION})`);
  if (!(o.snapshot instanceof Uint8Array)) throw new ProtocolError('the migration package has no snapshot');
  return { snapshot: o.snapshot, log: o.log as PortableLog };
}
