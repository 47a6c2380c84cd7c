import { hkdfSync, randomBytes } from 'node:crypto';
import { BlobCipher } from './blob-cipher.ts';

/** Ciphers kept (jobs times epochs an agent runs at a time). */
const KEPT = 1024;

/**
 * The output keys of the jobs an agent owns, in a fleet with identities: output goes to
 * topics every follower reads (jobs/JOB/out, a client's out), so it is sealed with a key
 * per job and epoch, which the agent gives to each follower that asks for a replay,
 * sealed to that follower's X25519 key. A new owner (after a move or a takeover) has a
 * new epoch and so a new key: keys never travel between agents. Derived from a secret
 * of this agent's run (HKDF), so nothing is stored.
 */
export class OutputKeys {
  readonly #secret = randomBytes(32);
  readonly #ciphers = new Map<string, BlobCipher>();

  /** The key of `job` at `epoch` (what followers are given). */
  key(job: string, epoch: number): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#secret, 'wasmig-output-v1', `${job}\n${epoch}`, 32));
  }

  /** The cipher output of `job` at `epoch` is sealed with. */
  cipher(job: string, epoch: number): BlobCipher {
    const id = `${job}\n${epoch}`;
    let c = this.#ciphers.get(id);
    if (!c) {
      c = outputCipher(this.key(job, epoch));
      this.#ciphers.set(id, c);
      if (this.#ciphers.size > KEPT) this.#ciphers.delete(this.#ciphers.keys().next().value!);
    }
    return c;
  }
}

/** The cipher of an output key (an agent's, or one a follower was given). */
export function outputCipher(key: Uint8Array): BlobCipher {
  return new BlobCipher(key, 'job output');
}

/** What an output key is bound to when it is sealed for a follower: the job, its epoch and the follower's out topic. */
export function outputKeyContext(job: string, epoch: number, outTopic: string): string {
  return `output key\n${job}\n${epoch}\n${outTopic}`;
}
