import type { Module } from '../wasm/index.ts';
import { defaultPlatform } from './platform-default.ts';
import { toHex } from './platform.ts';
import type { SnapshotPlatform } from './platform.ts';

/** sha256 of a module's bytes, lower-case hex: how a snapshot names its module. */
export function sha256Hex(bytes: Uint8Array, platform: SnapshotPlatform = defaultPlatform): string {
  return toHex(platform.sha256(bytes));
}

/** {@link sha256Hex} of a decoded module's bytes, computed once per module (kept in `module.sha256`). */
export function moduleSha256(module: Module): string {
  module.sha256 ??= sha256Hex(module.bytes);
  return module.sha256;
}
