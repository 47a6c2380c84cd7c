/**
 * The entry of the browser agent's page (`dist/browser/agent.js`, served by `wasmig
 * dashboard` at `/agent`): this tab joins the fleet as an agent, the same `Agent` a
 * device runs with `wasmig agent`: the same topics, handoff protocol, epochs, heartbeats
 * and last will (a closed tab is an agent gone offline), over MQTT-over-WebSocket. Each
 * job runs in a module Web Worker (`browser-job-thread.ts`) on the page's WebAssembly
 * (native tier) or the interpreter, so the page stays responsive.
 *
 * In a fleet that signs (`--key-file`, `--identity`), the page asks for the fleet's key
 * file or the tab's identity file (a file the user picks: the server never holds or
 * serves it), and the tab signs, checks and seals as a Node agent does (the same code,
 * over the in-page `node:crypto` stand-in); its replay guard keeps its high-water marks
 * in the page's `localStorage` (`agent/in-page/node-fs.ts`), so a reload does not open
 * it to replays. Jobs' in-memory directories (`run --mem-dir`) work here as on Node: their
 * files are in the job's state and move with it. What a tab's agent does not have: host
 * directories for jobs (a job that needs one is not moved here: placement and the handoff
 * say so in one line), resume clones made ahead. With an identity, the page takes the
 * fleet's revocation list too (`#revoked-file`), kept in page storage and enforced as
 * `--revoked` is on Node.
 * Bundled with stand-ins for the Node modules the agent's files import (`agent/in-page/`)
 * by `tools/build-browser.ts` (`browserAgentBuild`).
 * @module
 */
import { Agent } from './agent/agent.ts';
import { FleetClient } from './agent/client.ts';
import { errorText } from './agent/error-text.ts';
import { PAGE_STATE_ROOT, writeFileSync } from './agent/in-page/node-fs.ts';
import { checkRevocations } from './agent/revocation.ts';
import { DeviceIdentity } from './agent/identity.ts';
import { signerFromFile } from './agent/signer-file.ts';
import type { MessageSigner } from './agent/signing.ts';

/** What the page's HTML gives the script (`dashboard/agent-page.ts`). */
export interface BrowserAgentConfig {
  /** `ws://` or `wss://` URL of the broker, without credentials. */
  broker: string;
  username?: string;
  password?: string;
  /** The agent's name unless the page's `?name=` gives one. */
  name: string;
  /** `native` (default), `auto` or `interp`, unless the page's `?tier=` says. */
  tier?: string;
}

/** The little of the DOM this page uses (the project's TypeScript has no DOM library). */
interface Element {
  textContent: string | null;
  className: string;
  hidden: boolean;
  append(text: string): void;
}
interface FileInput extends Element {
  files: ArrayLike<{ name: string; arrayBuffer(): Promise<ArrayBuffer> }> | null;
  addEventListener(type: 'change', listener: () => void): void;
}
interface Page {
  getElementById(id: string): Element | null;
}

const page = (globalThis as unknown as { document: Page }).document;
const search = new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search);

function show(id: string, text: string, className = ''): void {
  const element = page.getElementById(id);
  if (element) { element.textContent = text; element.className = className; }
}

function log(line: string): void {
  page.getElementById('log')?.append(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

/** The online agents of the fleet that sign their messages (they would drop every unsigned one of this tab's). */
async function signingAgents(connection: { url: string; username?: string; password?: string }): Promise<string[]> {
  const client = await FleetClient.connect({ connection });
  try {
    return (await client.list()).agents.filter((a) => a.online && a.signed).map((a) => a.agent);
  } finally {
    await client.close();
  }
}

/**
 * The fleet key or identity the user picks in the page (`#key-file`): read in the page,
 * never sent anywhere. A file that is neither is said in one line, and the page waits
 * for another.
 */
function pickedSigner(why: string): Promise<MessageSigner> {
  const input = page.getElementById('key-file') as FileInput | null;
  if (!input) throw new Error(`${why}, and this page has no file input to choose its key with`);
  const choice = page.getElementById('key-choice');
  if (choice) choice.hidden = false;
  show('state', `${why}: choose the fleet's key file (--key-file) or this tab's identity file (wasmig fleet add NAME --roles run)`, 'waiting');
  return new Promise((resolve) => {
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (!file) return;
      file.arrayBuffer().then((bytes) => {
        resolve(signerFromFile(new Uint8Array(bytes), `the file ${file.name}`, { revoked: REVOKED_PATH, revokedMayBeMissing: true, log }));
        if (choice) choice.hidden = true;
      }).catch((error: unknown) => show('state', `${file.name}: ${errorText(error)}; choose another`, 'offline'));
    });
  });
}

/**
 * Where the tab keeps the fleet authority's revocation list (`wasmig fleet revoke`
 * writes it): page storage, so that it outlives a reload. An identity enforces it as a
 * Node agent's `--revoked` file, read again when it changes; nothing is revoked until the
 * page's user picks one (`#revoked-file`).
 */
const REVOKED_PATH = `${PAGE_STATE_ROOT}fleet/revoked.json`;

/**
 * `#revoked-file`: a revocation list picked in the page goes into page storage, where
 * the tab's identity takes it at once (a list its authority did not sign is refused
 * there, with a line in the log, and the one in force stays).
 */
function offerRevocationList(identity: { recheckRevocations(): void }): void {
  const input = page.getElementById('revoked-file') as FileInput | null;
  const choice = page.getElementById('revoked-choice');
  if (!input || !choice) return;
  choice.hidden = false;
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    file.arrayBuffer().then((bytes) => {
      const text = new TextDecoder().decode(bytes);
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { parsed = undefined; }
      const doc = checkRevocations(parsed);
      if (typeof doc === 'string') { log(`${file.name}: ${doc}; the list in force stays`); return; }
      writeFileSync(REVOKED_PATH, text);
      log(`revocation list ${file.name} (${doc.revoked.length} revoked, issued ${doc.issuedAt || 'undated'}) kept in this page`);
      identity.recheckRevocations(); // takes it now (or says why not), not at the next look

    }).catch((error: unknown) => log(`${file.name}: ${errorText(error)}`));
  });
}

/** Starts this tab's agent from the page's config; shows how it went. */
async function main(): Promise<void> {
  const config = JSON.parse(page.getElementById('config')?.textContent ?? '{}') as BrowserAgentConfig;
  let name = search.get('name') ?? config.name;
  const tier = search.get('tier') ?? config.tier ?? 'native';
  show('name', name);
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    // A job's pause flag and output ring are shared memory, which a page has only when isolated.
    throw new Error('this page is not cross-origin isolated (it needs the COOP and COEP headers wasmig dashboard sends): no shared memory for jobs');
  }
  const connection = { url: config.broker, username: config.username, password: config.password };
  // A fleet signs when its agents do (or the URL says so, ?signed, for a tab that may be the first agent).
  const signing = await signingAgents(connection);
  let key: MessageSigner | undefined;
  if (signing.length || search.has('signed')) {
    key = await pickedSigner(signing.length ? `this fleet signs its messages (agent${signing.length > 1 ? 's' : ''} ${signing.join(', ')})` : 'this page was opened for a fleet that signs (?signed)');
    // An identity names its device: the tab is that agent unless the URL names another (which Agent.start then refuses, saying why).
    if (key.name !== undefined && !search.has('name')) name = key.name;
    show('name', name);
    if (key instanceof DeviceIdentity) offerRevocationList(key);
  }
  const agent = await Agent.start({
    name, tier, heartbeatMs: 1000, aheadClones: 0, log,
    connection,
    ...(key ? { key, stateDir: `${PAGE_STATE_ROOT}${name}` } : {}),
  });
  (globalThis as { browserAgent?: Agent }).browserAgent = agent;
  show('state', `online at ${config.broker} (tier ${tier}${key ? `, signing with ${key.name !== undefined ? `the identity of ${key.name}` : 'the fleet key'}` : ''})`, 'online');
}

main().catch((error: unknown) => {
  show('state', `could not join the fleet: ${errorText(error)}`, 'offline');
  log(errorText(error));
});
