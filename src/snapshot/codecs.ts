/**
 * msgpack, through the platform (`platform.ts`): Node loads it on first use, since every
 * `wasmig run` imports this layer (a program may be paused), but only one that writes or
 * reads a snapshot needs the codec. (LZ4 is ours both ways: `lz4.ts`.)
 */
import { defaultPlatform } from './platform-default.ts';
import type { SnapshotPlatform } from './platform.ts';

export function msgpackCodec(platform: SnapshotPlatform = defaultPlatform): ReturnType<SnapshotPlatform['msgpack']> {
  return platform.msgpack();
}
