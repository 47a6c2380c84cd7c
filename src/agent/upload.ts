import { WasmigError } from '../errors/index.ts';
import { chunkCount } from './transfer.ts';
import { newId } from './messages.ts';
import type { Peer } from './peer.ts';
import { topics } from './topics.ts';

/**
 * Gives a module to an agent unless it has it already (agents cache modules by sha256):
 * `upload` (signed manifest) -> `ready` -> chunks -> `done`. Resolves with the bytes put
 * on the wire (0 when the agent had the module).
 */
export async function uploadModule(
  peer: Peer,
  agent: string,
  bytes: Uint8Array,
  hash: string,
  options: { chunkBytes: number; signal?: AbortSignal; onProgress?: (sent: number, total: number) => void },
): Promise<number> {
  const transfer = newId();
  const who = `agent ${agent}`;
  const id = await peer.send(topics.agentInbox(agent), { type: 'upload', transfer, sha256: hash, size: bytes.length, chunks: chunkCount(bytes.length, options.chunkBytes) });
  try {
    let reply = await peer.next(id, { timeoutMs: 10_000, who, signal: options.signal });
    if (!reply.ok) throw new WasmigError('ERR_UPLOAD', reply.message ?? `${who} refused the module`);
    if (reply.data?.have === true) return 0;
    const wire = await peer.sendBlob(topics.agentData(agent), transfer, bytes, options);
    reply = await peer.next(id, { timeoutMs: 30_000, who, signal: options.signal });
    if (!reply.ok) throw new WasmigError('ERR_UPLOAD', `${who} did not take the module: ${reply.message ?? reply.code}`);
    return wire;
  } finally {
    peer.done(id);
  }
}
