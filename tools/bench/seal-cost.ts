/**
 * What end-to-end encryption and signing cost, per piece, side by side in one run: the
 * CPU a migration spends on them, apart from the broker and the scheduler noise of a
 * whole move (tools/bench/migration.ts measures those; on a loaded machine its
 * differences between fleets are mostly noise).
 *
 * - sealing and opening a blob in 256 KiB chunks, as transfer.ts does: with the fleet
 *   key (AES-256-GCM, key from HKDF) and with identities (a fresh X25519 key per
 *   transfer, ECDH, HKDF, AES-256-GCM), for 64 MiB (a stop-and-copy move) and for 2 KiB
 *   (what a live move's pause carries);
 * - signing and checking one control message: HMAC-SHA256 (fleet key) and Ed25519 with
 *   the sender's certificate (identities).
 *
 * Each is run `--rounds` times, the three ways alternating round by round; the median
 * and the spread of CPU time (this process's user + system: less sensitive to other
 * processes than wall time) are reported.
 *
 * Usage: npx tsx tools/bench/seal-cost.ts [--rounds 7] [--mib 64]
 */
import { randomBytes } from 'node:crypto';
import { BlobCipher, chunkContext } from '../../src/agent/blob-cipher.ts';
import type { ChunkOpener, ChunkSealer } from '../../src/agent/blob-cipher.ts';
import { BoxKeys } from '../../src/agent/box-cipher.ts';
import { DeviceIdentity, FleetAuthority } from '../../src/agent/identity.ts';
import { FleetKey } from '../../src/agent/signing.ts';
import type { MessageSigner } from '../../src/agent/signing.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('--rounds', '7'));
const mib = Number(arg('--mib', '64'));
const CHUNK = 256 * 1024;
const topic = 'wasmig/v1/agents/b/data';

/** CPU milliseconds `f` takes. */
function cpu(f: () => void): number {
  const before = process.cpuUsage();
  f();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Seals `blob` chunk by chunk for one transfer, then opens every chunk: returns the CPU ms of each half. */
function roundTrip(blob: Buffer, sealer: () => ChunkSealer, opener: ChunkOpener): [number, number] {
  const transfer = randomBytes(16).toString('hex');
  const sealed: Buffer[] = [];
  const seal = cpu(() => {
    const s = sealer();
    for (let i = 0, n = 0; i < blob.length; i += CHUNK, n++) sealed.push(s.seal(chunkContext(topic, transfer, n), blob.subarray(i, i + CHUNK)));
  });
  const open = cpu(() => {
    for (const [n, chunk] of sealed.entries()) opener.open(chunkContext(topic, transfer, n), chunk);
  });
  return [seal, open];
}

const fleet = new BlobCipher(randomBytes(32));
const box = BoxKeys.generate();
const sender = BoxKeys.generate();
const ways: { name: string; sealer: () => ChunkSealer; opener: ChunkOpener }[] = [
  { name: 'fleet key', sealer: () => fleet, opener: fleet },
  { name: 'identities', sealer: () => sender.sealerFor(box.publicKey), opener: box },
];

const authority = FleetAuthority.generate();
const signers: { name: string; from: MessageSigner; to: MessageSigner }[] = [
  { name: 'HMAC (fleet key)', ...(() => { const k = new FleetKey(randomBytes(32)); return { from: k, to: k }; })() },
  { name: 'Ed25519 + certificate (identities)', from: new DeviceIdentity(authority.issue('a', ['run'])), to: new DeviceIdentity(authority.issue('b', ['run'])) },
];
const message = { type: 'final', v: 1, id: 'f'.repeat(32), ts: Date.now(), from: 'a', recipient: 'wasmig/v1/agents/b/inbox', replyTo: 'wasmig/v1/agents/a/inbox', job: 'j', epoch: 3, transfer: 'e'.repeat(32), sha256: 'd'.repeat(64), size: 1234, chunks: 1, digests: ['c'.repeat(64)] };
const MESSAGES = 1000;

const big = randomBytes(mib * 1024 * 1024);
const small = randomBytes(2048);
const results = new Map<string, number[]>();
const add = (k: string, v: number): void => { results.set(k, [...(results.get(k) ?? []), v]); };
for (let r = 0; r < rounds; r++) {
  for (const w of r % 2 ? [...ways].reverse() : ways) {
    const [s, o] = roundTrip(big, w.sealer, w.opener);
    add(`${w.name}: seal ${mib} MiB`, s);
    add(`${w.name}: open ${mib} MiB`, o);
    let ss = 0;
    let oo = 0;
    for (let i = 0; i < 100; i++) { const [a, b] = roundTrip(small, w.sealer, w.opener); ss += a; oo += b; }
    add(`${w.name}: seal 2 KiB`, ss / 100);
    add(`${w.name}: open 2 KiB`, oo / 100);
  }
  for (const g of r % 2 ? [...signers].reverse() : signers) {
    let signed: object = message;
    add(`${g.name}: sign a message`, cpu(() => { for (let i = 0; i < MESSAGES; i++) signed = g.from.sign({ ...message, id: `${i}`.padStart(32, '0') }); }) / MESSAGES);
    const to = g.to;
    add(`${g.name}: check a message`, cpu(() => { for (let i = 0; i < MESSAGES; i++) if (to.verify(signed, { signer: 'a', type: 'final' }) !== undefined) throw new Error('did not verify'); }) / MESSAGES);
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (ms: number): string => (ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(1)} µs`);
console.log(`\nCPU time, median of ${rounds} rounds (min-max), ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| what | CPU |');
console.log('|---|---:|');
for (const [k, xs] of results) console.log(`| ${k} | ${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}) |`);
