/**
 * The tab's signing, sealing and checking, run as the page runs it: the agent's own
 * signing.ts, identity.ts, box-cipher.ts and blob-cipher.ts bundled by esbuild with the
 * in-page stand-ins (`tools/build-browser.ts`'s plugins, the `buffer` package and its
 * base64url), then loaded here beside Node's build of the same files. Signed in the
 * page's code, checked by Node's, and back, with the fleet key and with identities;
 * blobs sealed by either open in the other; the signatures are the same bytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetAuthority, FleetKey } from '../../../src/agent/index.ts';
import { BlobCipher, chunkContext } from '../../../src/agent/blob-cipher.ts';
import { DeviceIdentity } from '../../../src/agent/identity.ts';
import { signerFromFile as nodeSignerFromFile } from '../../../src/agent/signer-file.ts';
import type { MessageSigner } from '../../../src/agent/signing.ts';
import { browserTwins, IN_PAGE, inPage } from '../../../tools/build-browser.ts';
import { repoRoot } from '../../helpers/cli.ts';

interface PageModule {
  signerFromFile(bytes: Uint8Array, source: string): MessageSigner;
  BlobCipher: typeof BlobCipher;
}

const s = suite('the tab\'s signatures and seals, against Node\'s');
const work = mkdtempSync(join(tmpdir(), 'wasmig-in-page-signing-'));
let inPageCode: PageModule;

s.before(async () => {
  const { metafile } = await build({
    stdin: {
      contents: "export { signerFromFile } from './signer-file.ts'; export { BlobCipher } from './blob-cipher.ts';",
      resolveDir: resolve(repoRoot, 'src/agent'), sourcefile: 'in-page-signing.ts', loader: 'ts',
    },
    outfile: join(work, 'in-page-signing.mjs'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning', metafile: true,
    inject: [resolve(IN_PAGE, 'globals.ts')],
    plugins: [browserTwins, inPage],
  });
  // The page's code indeed: the stand-ins, the buffer package and @noble, no node:crypto.
  const inputs = Object.keys(metafile.inputs).join('\n');
  for (const part of ['src/agent/in-page/node-crypto.ts', 'node_modules/buffer/index.js', 'node_modules/@noble/curves/', 'node_modules/@noble/ciphers/']) assert.ok(inputs.includes(part), `the bundle has ${part}`);
  inPageCode = await import(pathToFileURL(join(work, 'in-page-signing.mjs')).href) as PageModule;
});

s.after(() => rmSync(work, { recursive: true, force: true }));

const message = { v: 1, type: 'start', from: 'laptop~1234abcd', recipient: 'wasmig/agents/tab/inbox', id: 'm1', ts: 1_790_000_000_000, job: 'j', args: ['a', 'ü'] };

s('the fleet key: the same HMAC, each checks the other\'s, a forged one is refused by both', () => {
  const bytes = new TextEncoder().encode('a-fleet-key-of-32-bytes-or-so...\n');
  const page = inPageCode.signerFromFile(bytes, 'fleet.key');
  const node: MessageSigner = nodeSignerFromFile(bytes, 'fleet.key');
  assert.is(node.constructor, FleetKey);
  const signedInPage = page.sign(message);
  assert.is(signedInPage.sig, node.sign(message).sig);
  assert.is(node.verify(signedInPage), undefined);
  assert.is(page.verify(node.sign(message)), undefined);
  assert.match(node.verify({ ...signedInPage, job: 'k' }) ?? '', /^bad signature/);
  assert.match(page.verify({ ...signedInPage, job: 'k' }) ?? '', /^bad signature/);
  // Blob chunks: sealed in the page, opened by Node, and back (bound to their place).
  const chunk = new Uint8Array(9000).map((_, i) => i & 255);
  const at = chunkContext('wasmig/agents/tab/data', 't1', 4);
  assert.equal(new Uint8Array(node.opener!.open(at, page.sealerFor!('tab')!.seal(at, chunk))), chunk);
  assert.equal(new Uint8Array(page.opener!.open(at, node.sealerFor!('tab')!.seal(at, chunk))), chunk);
  assert.throws(() => page.opener!.open(chunkContext('wasmig/agents/tab/data', 't1', 5), node.sealerFor!('tab')!.seal(at, chunk)), /does not decrypt/);
});

s('identities: the tab\'s identity file read by the page\'s code; Ed25519 signatures identical; each checks the other; blobs sealed to each open', () => {
  const authority = FleetAuthority.generate();
  const tabFile = authority.issue('tab', ['run']);
  const laptopFile = authority.issue('laptop', ['start', 'migrate']);
  const tabText = new TextEncoder().encode(JSON.stringify(tabFile));
  const tabInPage = inPageCode.signerFromFile(tabText, 'tab.identity');
  const tabInNode = nodeSignerFromFile(tabText, 'tab.identity');
  assert.ok(tabInNode instanceof DeviceIdentity);
  assert.is(tabInPage.name, 'tab');
  const laptop = new DeviceIdentity(laptopFile);
  const laptopInPage = inPageCode.signerFromFile(new TextEncoder().encode(JSON.stringify(laptopFile)), 'laptop.identity');

  // The laptop (Node) asks the tab (the page's code) to start a job, and the tab answers.
  const asked = laptop.sign(message);
  assert.is(tabInPage.verify(asked, { signer: message.from, type: 'start' }), undefined);
  assert.is(laptopInPage.sign(message).sig, asked.sig, 'Ed25519 is deterministic: the same signature');
  const state = { v: 1, job: 'j', agent: 'tab', epoch: 2, state: 'running' };
  const published = tabInPage.sign(state);
  assert.is(laptop.verify(published, { signer: 'tab', type: 'state' }), undefined);
  assert.is(tabInNode.sign(state).sig, published.sig);
  // Roles and names hold in the page as in Node.
  assert.match(tabInPage.verify(tabInNode.sign(message), { signer: message.from, type: 'start' }) ?? '', /sent as laptop~1234abcd, but signed by tab|may not send start/);
  assert.match(laptop.verify({ ...published, epoch: 3 }, { signer: 'tab', type: 'state' }) ?? '', /^bad signature/);

  // Blobs sealed to the tab by Node open in the page, and sealed to the laptop by the page open in Node.
  const chunk = new Uint8Array(5000).map((_, i) => (i * 7) & 255);
  const at = chunkContext('wasmig/agents/tab/data', 't2', 0);
  assert.ok(laptop.verify(published, { signer: 'tab', type: 'state' }) === undefined && laptop.sealerFor('tab'), 'the laptop learnt the tab\'s certificate');
  assert.equal(new Uint8Array(tabInPage.opener!.open(at, laptop.sealerFor('tab')!.seal(at, chunk))), chunk);
  assert.ok(tabInPage.verify(asked, { signer: message.from, type: 'start' }) === undefined);
  assert.equal(new Uint8Array(laptop.opener.open(at, tabInPage.sealerFor!('laptop')!.seal(at, chunk))), chunk);
});

s('a file that is neither: one line', () => {
  assert.throws(() => inPageCode.signerFromFile(new TextEncoder().encode('short'), 'x.key'), /the fleet key has 5 bytes: it needs at least 16/);
  assert.throws(() => inPageCode.signerFromFile(new TextEncoder().encode('{"v":2}'), 'the file x.identity'), /^the file x\.identity: /);
});

s.run();
