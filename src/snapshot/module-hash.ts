import { createHash } from 'node:crypto';
import type { Module } from '../wasm/index.ts';

const hashes = new WeakMap<Module, string>();

/** sha256 of a module's bytes, lower-case hex: how a snapshot names its module. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** {@link sha256Hex} of a decoded module's bytes, computed once per module. */
export function moduleSha256(module: Module): string {
  let h = hashes.get(module);
  if (h === undefined) {
    h = sha256Hex(module.bytes);
    hashes.set(module, h);
  }
  return h;
}
