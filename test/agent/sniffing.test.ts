/**
 * Issue 16's sniffing attack: a client with no key and no login subscribes to every
 * agent's data topic while a module is uploaded and a job migrates. In a fleet with a
 * key, the blobs are sealed for their recipient (AES-256-GCM, blob-cipher.ts), and in a
 * fleet with identities to the recipient's X25519 key (box-cipher.ts): the sniffer finds
 * neither the module nor the job's output in them. The same fleet without a key shows
 * both, so the sniffer does see what goes by.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, DeviceIdentity, FleetAuthority, FleetClient, FleetKey, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker, MessageSigner } from '../../src/agent/index.ts';
import { chunkContext } from '../../src/agent/blob-cipher.ts';
import { decodeBlobChunk } from '../../src/agent/frames.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-sniff-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const ticker = readFileSync(tickerPath);
/** A piece of the module from its middle: in clear, it is in the upload's chunks. */
const moduleSlice = ticker.subarray(ticker.length >> 1, (ticker.length >> 1) + 48);

const s = suite('a sniffer on the data topics');
let broker: EmbeddedBroker;

s.before(async () => {
  broker = await startBroker({ port: 0 });
});

s.after(async () => {
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

/** Uploads, runs and migrates a job in a fleet of `prefix`a and `prefix`b; returns the blob data the sniffer saw. */
async function sniffFleet(prefix: string, keyOf: (device: string) => MessageSigner | undefined): Promise<{ blobs: Buffer; output: Buffer; chunks: { topic: string; transfer: string; index: number; data: Uint8Array }[] }> {
  const seen: Buffer[] = [];
  const chunks: { topic: string; transfer: string; index: number; data: Uint8Array }[] = [];
  const output: Buffer[] = [];
  const sniffer = await MqttLink.open({
    connection: { url: broker.url }, clientId: `wasmig-sniffer-${prefix}`, persistent: false,
    onMessage: (topic, payload) => {
      if (topic.endsWith('/out')) { output.push(Buffer.from(payload)); return; }
      try {
        const chunk = decodeBlobChunk(payload);
        seen.push(Buffer.from(chunk.data));
        chunks.push({ topic, transfer: chunk.transfer, index: chunk.index, data: chunk.data });
      } catch { /* not a chunk */ }
    },
  });
  await sniffer.subscribe(['wasmig/v1/agents/+/data', 'wasmig/v1/jobs/+/out', 'wasmig/v1/clients/+/out']);
  const [a, b] = [`${prefix}a`, `${prefix}b`];
  const agents = await Promise.all([a, b].map((name) => Agent.start({ name, connection: { url: broker.url }, key: keyOf(name), dirs: [{ host: ctl, guest: '/ctl' }], stateDir: join(work, name), log: () => {} })));
  const client = await FleetClient.connect({ connection: { url: broker.url }, key: keyOf('laptop') });
  try {
    const job = `${prefix}job`;
    await client.start({ agent: a, module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=30', 'work=100', `gate=/ctl/${job}`, 'at=20'], job });
    let firstOutput!: () => void;
    const flowing = new Promise<void>((resolve) => { firstOutput = resolve; });
    let printed = '';
    const following = client.follow(job, { onOutput: (c) => { if (c.stream === 1) printed += Buffer.from(c.data).toString(); firstOutput(); } });
    following.catch(() => {});
    await flowing;
    const moved = await client.migrate(job, b);
    assert.is(moved.to, b);
    writeFileSync(join(ctl, job), '');
    assert.is((await following).state, 'exited');
    // The follower, which holds the key, reads the output whole.
    assert.match(printed, /tick 30\//);
  } finally {
    await client.close();
    await Promise.all(agents.map((x) => x.stop()));
    await sniffer.close();
  }
  return { blobs: Buffer.concat(seen), output: Buffer.concat(output), chunks };
}

s('without a key the sniffer reads the module and the output; with one, ciphertext only', async () => {
  const open = await sniffFleet('open-', () => undefined);
  const clear = open.blobs;
  assert.ok(clear.includes(moduleSlice), 'the control: in a keyless fleet the module travels in clear');
  assert.ok(clear.includes('tick 1/'), 'the control: so does the output in the migration package');
  assert.ok(open.output.includes('tick 1/'), 'the control: and the live output');
  const key = new FleetKey(randomBytes(32));
  const closed = await sniffFleet('sealed-', () => key);
  const sealed = closed.blobs;
  assert.ok(closed.output.length > 0, 'the sniffer saw output go by');
  assert.not.ok(closed.output.includes('tick '), 'no output line on the output topics');
  assert.ok(sealed.length > ticker.length, `the sniffer saw the blobs go by (${sealed.length} bytes)`);
  assert.not.ok(sealed.includes(moduleSlice), 'no piece of the module');
  assert.not.ok(sealed.includes(Buffer.from([0, 0x61, 0x73, 0x6d])), 'not even its magic number');
  assert.not.ok(sealed.includes('tick '), 'no output line');
});

s('with identities the sniffer sees ciphertext only, and so does another device of the fleet', async () => {
  const authority = FleetAuthority.generate();
  const closed = await sniffFleet('id-', (device) => new DeviceIdentity(authority.issue(device, device === 'laptop' ? ['start', 'migrate'] : ['run'])));
  assert.ok(closed.output.length > 0, 'the sniffer saw output go by');
  assert.not.ok(closed.output.includes('tick '), 'no output line on the output topics');
  assert.ok(closed.blobs.length > ticker.length, `the sniffer saw the blobs go by (${closed.blobs.length} bytes)`);
  assert.not.ok(closed.blobs.includes(moduleSlice), 'no piece of the module');
  assert.not.ok(closed.blobs.includes(Buffer.from([0, 0x61, 0x73, 0x6d])), 'not even its magic number');
  assert.not.ok(closed.blobs.includes('tick '), 'no output line');
  // A certified device that is not the recipient (it holds the fleet's authority's word, not the recipient's key) opens none of them.
  const other = new DeviceIdentity(authority.issue('id-c', ['run']));
  for (const c of closed.chunks) assert.throws(() => other.opener.open(chunkContext(c.topic, c.transfer, c.index), c.data), /does not decrypt/);
  // To b went the module, then the handoff's rounds and final: a sender key for the module,
  // and one for the whole handoff (its key agreement made before the job paused, not on the pause).
  const toB = closed.chunks.filter((c) => c.topic === 'wasmig/v1/agents/id-b/data');
  const transfers = [...new Set(toB.map((c) => c.transfer))];
  const senderKey = (t: string): string[] => [...new Set(toB.filter((c) => c.transfer === t).map((c) => Buffer.from(c.data.subarray(0, 32)).toString('hex')))];
  assert.ok(transfers.length >= 3, `the module, rounds and a final went to b: ${transfers.length} transfers`);
  for (const t of transfers) assert.is(senderKey(t).length, 1, 'one sender key per transfer');
  assert.is(new Set(transfers.slice(1).map((t) => senderKey(t)[0])).size, 1, 'the handoff\'s transfers share one sender key');
  assert.is.not(senderKey(transfers[0])[0], senderKey(transfers[1])[0], 'the module had a sender key of its own');
});

s.run();
