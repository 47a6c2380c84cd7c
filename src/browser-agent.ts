/**
 * The entry of the browser agent's page (`dist/browser/agent.js`, served by `wasmig
 * dashboard` at `/agent`): this tab joins the fleet as an agent, the same `Agent` a
 * device runs with `wasmig agent`: the same topics, handoff protocol, epochs, heartbeats
 * and last will (a closed tab is an agent gone offline), over MQTT-over-WebSocket. Each
 * job runs in a module Web Worker (`browser-job-thread.ts`) on the page's WebAssembly
 * (native tier) or the interpreter, so the page stays responsive.
 *
 * What a tab's agent does not have: directories for jobs (a job given preopens is
 * refused in one line), a state dir, a fleet key or device identity (its blob sealing
 * needs synchronous AES-GCM, which a page lacks), resume clones made ahead. Bundled with
 * stand-ins for the Node modules the agent's files import (`agent/in-page/`) by
 * `tools/build-browser.ts` (`browserAgentBuild`).
 * @module
 */
import { Agent } from './agent/agent.ts';
import { FleetClient } from './agent/client.ts';
import { errorText } from './agent/error-text.ts';

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
interface Page {
  getElementById(id: string): { textContent: string | null; className: string; append(text: string): void } | null;
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

/**
 * A fleet whose agents sign their messages would drop every unsigned one of this tab's
 * (a handoff into it would time out, not fail): refuses to join it, in one line.
 */
async function refuseSignedFleet(connection: { url: string; username?: string; password?: string }): Promise<void> {
  const client = await FleetClient.connect({ connection });
  try {
    const signed = (await client.list()).agents.filter((a) => a.online && a.signed).map((a) => a.agent);
    if (signed.length) {
      throw new Error(`this fleet signs its messages (agent${signed.length > 1 ? 's' : ''} ${signed.join(', ')}): a tab cannot join it yet (the fleet key seals blobs with AES-GCM, which a page has only asynchronously)`);
    }
  } finally {
    await client.close();
  }
}

/** Starts this tab's agent from the page's config; shows how it went. */
async function main(): Promise<void> {
  const config = JSON.parse(page.getElementById('config')?.textContent ?? '{}') as BrowserAgentConfig;
  const name = search.get('name') ?? config.name;
  const tier = search.get('tier') ?? config.tier ?? 'native';
  show('name', name);
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    // A job's pause flag and output ring are shared memory, which a page has only when isolated.
    throw new Error('this page is not cross-origin isolated (it needs the COOP and COEP headers wasmig dashboard sends): no shared memory for jobs');
  }
  const connection = { url: config.broker, username: config.username, password: config.password };
  await refuseSignedFleet(connection);
  const agent = await Agent.start({
    name, tier, heartbeatMs: 1000, aheadClones: 0, log,
    connection,
  });
  (globalThis as { browserAgent?: Agent }).browserAgent = agent;
  show('state', `online at ${config.broker} (tier ${tier})`, 'online');
}

main().catch((error: unknown) => {
  show('state', `could not join the fleet: ${errorText(error)}`, 'offline');
  log(errorText(error));
});
