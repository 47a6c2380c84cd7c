import { createHash } from 'node:crypto';
import type { Module } from '../wasm/index.ts';

/** sha256 of a module's bytes, lower-case hex: how a snapshot names its module. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** {@link sha256Hex} of a decoded module's bytes, computed once per module (kept in `module.sha256`). */
export function moduleSha256(module: Module): string {
  module.sha256 ??= sha256Hex(module.bytes);
  return module.sha256;
}
