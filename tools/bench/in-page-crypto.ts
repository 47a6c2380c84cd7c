/**
 * What a signed fleet costs a browser tab: the in-page `node:crypto` stand-in
 * (src/agent/in-page/node-crypto.ts: @noble's AES-256-GCM, Ed25519, X25519, HMAC, in
 * JavaScript) against Node's OpenSSL, on what a migration does with them: seal and open
 * blob chunks (the 1 MiB a round or a final package carries, cut as the agent cuts
 * them), sign and verify a control message (fleet key: HMAC; identities: Ed25519), and
 * one X25519 agreement (an identity's per-handoff sealer). Run in Node (V8, as chromium's
 * page runs it): the stand-in's code is the page's. Each round runs every case once,
 * interleaved, so load swings hit both alike; medians, min-max, and the ratio.
 *
 * Usage: npx tsx tools/bench/in-page-crypto.ts [--rounds 7] [--mib 1]
 */
import * as node from 'node:crypto';
import { loadavg } from 'node:os';
import * as page from '../../src/agent/in-page/node-crypto.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('--rounds', 7);
const MIB = arg('--mib', 1);
/** The agent's blob chunk size (transfer.ts cuts blobs in 256 KiB chunks). */
const CHUNK = 256 * 1024;
const data = node.randomBytes(MIB * 1024 * 1024);
const key = node.randomBytes(32);
const aad = Buffer.from('wasmig/agents/tab/data\nt1\n0');
const message = Buffer.from(JSON.stringify({ v: 1, type: 'final', from: 'a', recipient: 'wasmig/agents/tab/inbox', id: 'x'.repeat(24), ts: Date.now(), job: 'j', epoch: 4, manifest: { sha256: '0'.repeat(64), bytes: 123456 } }));

type Impl = typeof node | typeof page;
interface Cipher { setAAD(a: Uint8Array): void; update(d: Uint8Array): Buffer; final(): Buffer; getAuthTag(): Buffer }
interface Decipher { setAAD(a: Uint8Array): void; setAuthTag(t: Uint8Array): void; update(d: Uint8Array): Buffer; final(): Buffer }

function sealAll(impl: Impl): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    const nonce = node.randomBytes(12);
    const c = impl.createCipheriv('aes-256-gcm', key, nonce) as unknown as Cipher;
    c.setAAD(aad);
    out.push(Buffer.concat([nonce, c.update(data.subarray(at, at + CHUNK)), c.final(), c.getAuthTag()]));
  }
  return out;
}

function openAll(impl: Impl, sealed: Buffer[]): void {
  for (const s of sealed) {
    const d = impl.createDecipheriv('aes-256-gcm', key, s.subarray(0, 12)) as unknown as Decipher;
    d.setAAD(aad);
    d.setAuthTag(s.subarray(s.length - 16));
    d.update(s.subarray(12, s.length - 16));
    d.final();
  }
}

const edNode = node.generateKeyPairSync('ed25519');
const pem = edNode.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const x = (edNode.publicKey.export({ format: 'jwk' }) as { x: string }).x;
const keys = {
  node: { priv: edNode.privateKey, pub: edNode.publicKey },
  page: { priv: page.createPrivateKey(pem), pub: page.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }) },
};
const sealedBy = { node: sealAll(node), page: sealAll(page) };
const signature = node.sign(null, message, edNode.privateKey);
const xPeer = node.generateKeyPairSync('x25519');
const xPeerX = (xPeer.publicKey.export({ format: 'jwk' }) as { x: string }).x;

const impls = { node, page } as const;
type Name = keyof typeof impls;
/** Each case: how many times to repeat it in a timing (small ones are too short to time once). */
const cases: Record<string, { times: number; run: (name: Name) => unknown }> = {
  [`AES-256-GCM seal ${MIB} MiB (256 KiB chunks)`]: { times: 1, run: (n) => sealAll(impls[n]) },
  [`AES-256-GCM open ${MIB} MiB`]: { times: 1, run: (n) => openAll(impls[n], sealedBy[n]) },
  'HMAC-SHA256 sign a control message': { times: 100, run: (n) => impls[n].createHmac('sha256', key).update(message).digest('hex') },
  'Ed25519 sign a control message': { times: 20, run: (n) => (n === 'node' ? node.sign(null, message, keys.node.priv) : page.sign(null, message, keys.page.priv)) },
  'Ed25519 verify a control message': { times: 20, run: (n) => (n === 'node' ? node.verify(null, message, keys.node.pub, signature) : page.verify(null, message, keys.page.pub, signature)) },
  'X25519 key pair + agreement': {
    times: 10,
    run: (n) => {
      if (n === 'node') {
        const pair = node.generateKeyPairSync('x25519');
        return node.diffieHellman({ privateKey: pair.privateKey, publicKey: xPeer.publicKey });
      }
      const pair = page.generateKeyPairSync('x25519');
      return page.diffieHellman({ privateKey: pair.privateKey, publicKey: page.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: xPeerX }, format: 'jwk' }) });
    },
  },
};

const times = new Map<string, number[]>();
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, c] of Object.entries(cases)) {
    for (const impl of ['node', 'page'] as const) {
      const t0 = performance.now();
      for (let i = 0; i < c.times; i++) c.run(impl);
      const ms = (performance.now() - t0) / c.times;
      // Round 0 warms both up (JIT): not counted.
      if (round > 0) times.set(`${name}|${impl}`, [...(times.get(`${name}|${impl}`) ?? []), ms]);
    }
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };
const fmt = (ms: number): string => (ms < 0.1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`in-page crypto (the tab's) against Node's, ${ROUNDS} interleaved rounds after one warm-up, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| case | node ms (min-max) | page ms (min-max) | page / node |');
console.log('|---|---|---|---|');
for (const name of Object.keys(cases)) {
  const [n, p] = (['node', 'page'] as const).map((i) => times.get(`${name}|${i}`)!);
  console.log(`| ${name} | ${fmt(median(n!))} (${fmt(Math.min(...n!))}-${fmt(Math.max(...n!))}) | ${fmt(median(p!))} (${fmt(Math.min(...p!))}-${fmt(Math.max(...p!))}) | ${(median(p!) / median(n!)).toFixed(1)} |`);
}
