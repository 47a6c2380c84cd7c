/**
 * msgpack, loaded on first use: every `wasmig run` imports this layer (a program may be
 * paused), but only one that writes or reads a snapshot needs the codec, and loading it
 * costs start-up time. (LZ4 is ours both ways: `lz4.ts`.)
 */
import { createRequire } from 'node:module';

type Msgpack = typeof import('@msgpack/msgpack');

const load = createRequire(import.meta.url);
let msgpack: Msgpack | undefined;

export function msgpackCodec(): Msgpack {
  return (msgpack ??= load('@msgpack/msgpack') as Msgpack);
}
