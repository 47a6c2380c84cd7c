/**
 * A handoff's messages in the pause, authenticated with an HMAC under the handoff's
 * session key instead of Ed25519 (identities only).
 *
 * With identities every control message carries its sender's certificate and an Ed25519
 * signature: signing and checking one costs 0.3-0.5 ms here, and the pause of a live
 * move has two such messages (the final and its answer), about 1 ms of a 15-30 ms
 * downtime. Both ends of a handoff already agree on a secret before the pause: the
 * source's sealer is an ephemeral X25519 key to the target's certificate key
 * (box-cipher.ts), and its public half goes in the `prepare`, which the source signs.
 * A key derived from that secret is known to the two devices only, so a message whose
 * HMAC under it checks, and whose `from` names the other end, comes from that end: the
 * same guarantee a signature gives between two parties (not to a third: an HMAC proves
 * nothing to anyone who does not hold the key, so nothing else takes such messages).
 *
 * The HMAC covers the canonical JSON of the whole message (its type, sender, recipient,
 * id and time, as a signature does), so the recipient and replay checks that follow are
 * the same as for signed messages.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './signing.ts';

/** The message types a session may authenticate: a handoff's final and the answers to it. */
export const SESSION_TYPES: ReadonlySet<string> = new Set(['final', 'reply']);

/** Characters of a session MAC: HMAC-SHA256 in hex. */
const MAC_HEX = 64;

function macOf(key: Buffer, message: object): string {
  const { mac: _mac, ...rest } = message as { mac?: unknown };
  return createHmac('sha256', key).update('wasmig handoff session v1\n').update(canonicalJson(rest)).digest('hex');
}

/** The message with `session` (the session's id) and its `mac`. */
export function withSessionMac<T extends object>(message: T, session: { id: string; key: Buffer }): T & { session: string; mac: string } {
  const named = { ...message, session: session.id };
  return { ...named, mac: macOf(session.key, named) };
}

/** Whether `message.mac` is the HMAC of the rest under `key`. */
export function sessionMacValid(message: { mac?: unknown }, key: Buffer): boolean {
  if (typeof message.mac !== 'string' || message.mac.length !== MAC_HEX || !/^[0-9a-f]+$/.test(message.mac)) return false;
  return timingSafeEqual(Buffer.from(macOf(key, message), 'hex'), Buffer.from(message.mac, 'hex'));
}
