/**
 * msgpack and lz4-napi, loaded on first use: every `wasmig run` imports this layer (a
 * program may be paused), but only one that writes or reads a snapshot needs the codecs,
 * and loading them costs about 80 ms of start-up on this machine.
 */
import { createRequire } from 'node:module';

type Msgpack = typeof import('@msgpack/msgpack');
type Lz4 = typeof import('lz4-napi');

const load = createRequire(import.meta.url);
let msgpack: Msgpack | undefined;
let lz4: Lz4 | undefined;

export function msgpackCodec(): Msgpack {
  return (msgpack ??= load('@msgpack/msgpack') as Msgpack);
}

export function lz4Codec(): Lz4 {
  return (lz4 ??= load('lz4-napi') as Lz4);
}
