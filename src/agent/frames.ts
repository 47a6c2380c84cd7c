import { createHash } from 'node:crypto';
import { NAME_PATTERN } from './connection.ts';
import { ProtocolError } from './messages.ts';

/**
 * The binary payloads of the fleet protocol (docs/protocol.md): output chunks and blob
 * chunks. Both are checked on arrival; a bad frame is dropped with a reason.
 */

const OUT_MAGIC = 0x574d4f31; // "WMO1"
const BLOB_MAGIC = 0x574d4231; // "WMB1"
const OUT_HEADER = 18;
/** Bytes before a blob chunk's data. */
export const BLOB_HEADER = 60;

/** Which stream an output chunk belongs to. */
export type StreamId = 1 | 2;

/** One piece of a job's output: `seq` numbers all chunks of a job, both streams, from 0. */
export interface OutputChunk {
  job: string;
  epoch: number;
  seq: number;
  stream: StreamId;
  data: Uint8Array;
}

export function encodeOutput(c: OutputChunk): Buffer {
  const id = Buffer.from(c.job, 'utf8');
  const buf = Buffer.allocUnsafe(OUT_HEADER + id.length + c.data.length);
  buf.writeUInt32BE(OUT_MAGIC, 0);
  buf.writeUInt8(c.stream, 4);
  buf.writeUInt8(id.length, 5);
  buf.writeUInt32BE(c.epoch >>> 0, 6);
  buf.writeUInt32BE(Math.floor(c.seq / 2 ** 32), 10);
  buf.writeUInt32BE(c.seq >>> 0, 14);
  id.copy(buf, OUT_HEADER);
  buf.set(c.data, OUT_HEADER + id.length);
  return buf;
}

export function decodeOutput(buf: Buffer): OutputChunk {
  if (buf.length < OUT_HEADER || buf.readUInt32BE(0) !== OUT_MAGIC) throw new ProtocolError('not an output chunk');
  const stream = buf.readUInt8(4);
  if (stream !== 1 && stream !== 2) throw new ProtocolError(`output chunk for stream ${stream}`);
  const idLength = buf.readUInt8(5);
  if (buf.length < OUT_HEADER + idLength) throw new ProtocolError('truncated output chunk');
  const job = buf.toString('utf8', OUT_HEADER, OUT_HEADER + idLength);
  if (!NAME_PATTERN.test(job)) throw new ProtocolError('output chunk with an invalid job id');
  const seq = buf.readUInt32BE(10) * 2 ** 32 + buf.readUInt32BE(14);
  if (!Number.isSafeInteger(seq)) throw new ProtocolError('output chunk sequence number out of range');
  return { job, epoch: buf.readUInt32BE(6), seq, stream, data: buf.subarray(OUT_HEADER + idLength) };
}

/** One chunk of a blob (module or migration package). */
export interface BlobChunk {
  transfer: string;
  index: number;
  count: number;
  data: Uint8Array;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function encodeBlobChunk(c: BlobChunk): Buffer {
  const buf = Buffer.allocUnsafe(BLOB_HEADER + c.data.length);
  buf.writeUInt32BE(BLOB_MAGIC, 0);
  buf.write(c.transfer, 4, 16, 'hex');
  buf.writeUInt32BE(c.index, 20);
  buf.writeUInt32BE(c.count, 24);
  createHash('sha256').update(c.data).digest().copy(buf, 28);
  buf.set(c.data, BLOB_HEADER);
  return buf;
}

/** Decodes a blob chunk and checks its own sha256: a corrupted chunk throws. */
export function decodeBlobChunk(buf: Buffer): BlobChunk {
  if (buf.length < BLOB_HEADER || buf.readUInt32BE(0) !== BLOB_MAGIC) throw new ProtocolError('not a blob chunk');
  const transfer = buf.toString('hex', 4, 20);
  const index = buf.readUInt32BE(20);
  const count = buf.readUInt32BE(24);
  if (count === 0 || index >= count) throw new ProtocolError(`blob chunk ${index} of ${count}`);
  const data = buf.subarray(BLOB_HEADER);
  const digest = createHash('sha256').update(data).digest();
  if (!digest.equals(buf.subarray(28, BLOB_HEADER))) throw new ProtocolError(`blob chunk ${index + 1}/${count} of transfer ${transfer} fails its sha256 check`);
  return { transfer, index, count, data };
}
