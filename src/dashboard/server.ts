import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_MIGRATIONS, listenOn, topics } from '../agent/index.ts';
import { UsageError } from '../errors/index.ts';
import { agentPageHtml } from './agent-page.ts';
import { DASHBOARD_SCRIPT, dashboardHtml } from './page.ts';

/** Where and what `startDashboard` serves. */
export interface DashboardOptions {
  /** TCP port (0: any free one). Default 8090. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** The broker the page connects to: a `ws://` or `wss://` URL (user:password@ in it is the page's login). */
  broker: string;
  /** Where the browser agent's bundles are (default {@link BROWSER_AGENT_DIR}). */
  bundles?: string;
}

/** A running dashboard server. */
export interface Dashboard {
  /** `http://HOST:PORT/`: open it in a browser. */
  readonly url: string;
  /** `http://HOST:PORT/agent`: a tab opened there joins the fleet as an agent (`?name=`, default `tab`). */
  readonly agentUrl: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/** The browser builds of the two libraries the page imports, read from the installed packages. */
function vendorFiles(): Record<string, { path: string; type: string }> {
  const require = createRequire(import.meta.url);
  // Through each package.json: their `exports` maps do not list the dist files.
  const mqtt = dirname(require.resolve('mqtt/package.json'));
  const uplot = dirname(require.resolve('uplot/package.json'));
  return {
    '/vendor/mqtt.esm.js': { path: join(mqtt, 'dist/mqtt.esm.js'), type: 'text/javascript' },
    '/vendor/uPlot.esm.js': { path: join(uplot, 'dist/uPlot.esm.js'), type: 'text/javascript' },
    '/vendor/uPlot.min.css': { path: join(uplot, 'dist/uPlot.min.css'), type: 'text/css' },
  };
}

/**
 * Where `npm run build:browser` writes the browser agent's bundles (agent.js and
 * job-thread.js): `dist/browser` of the package, from `src/dashboard` or `dist/dashboard`.
 */
export const BROWSER_AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/browser');

/** The browser agent's bundles and their source maps, by URL path. */
function browserAgentFiles(dir: string): Record<string, { path: string; type: string }> {
  const files: Record<string, { path: string; type: string }> = {};
  for (const name of ['agent', 'job-thread', 'fleet']) {
    files[`/browser/${name}.js`] = { path: join(dir, `${name}.js`), type: 'text/javascript' };
    files[`/browser/${name}.js.map`] = { path: join(dir, `${name}.js.map`), type: 'application/json' };
  }
  return files;
}

/**
 * Serves the fleet dashboard: a page listing agents and jobs, live, with a chart of each
 * agent's CPU and controls (start, migrate, follow output, each move's downtime and
 * bytes), and at `/agent` the browser agent's page. The pages themselves talk to the
 * broker over MQTT-over-WebSocket (`wasmig broker --ws-port`, or mosquitto's websockets
 * listener); this server only hands out the pages, the two libraries they import, and
 * the bundles `npm run build:browser` made (agent, job worker, fleet client), all with
 * COOP and COEP headers (a tab's agent needs shared memory).
 * @throws UsageError when `broker` is not a ws:// or wss:// URL
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  let broker: URL;
  try {
    broker = new URL(options.broker);
  } catch {
    throw new UsageError(`--broker ${JSON.stringify(options.broker)} is not a URL (expected ws://HOST:PORT)`);
  }
  if (broker.protocol !== 'ws:' && broker.protocol !== 'wss:') {
    throw new UsageError(`--broker ${options.broker}: the dashboard's page reaches the broker over WebSocket: give ws://HOST:PORT (wasmig broker --ws-port PORT)`);
  }
  const username = broker.username ? decodeURIComponent(broker.username) : undefined;
  const password = broker.password ? decodeURIComponent(broker.password) : undefined;
  broker.username = '';
  broker.password = '';
  const page = dashboardHtml({
    broker: broker.href.replace(/\/$/, ''), username, password,
    filters: { status: topics.allAgentStatus, load: topics.allAgentLoad, jobs: topics.allJobStates, migrations: ALL_MIGRATIONS },
  });
  const agentPage = agentPageHtml({ broker: broker.href.replace(/\/$/, ''), username, password, name: 'tab', tier: 'native' });
  const vendor = { ...vendorFiles(), ...browserAgentFiles(options.bundles ?? BROWSER_AGENT_DIR) };
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8090;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    // Cross-origin isolated (COOP + COEP): the browser agent's jobs need shared memory
    // (their pause flag and output ring), which a page has only then; everything served
    // here is same-origin, and the broker's WebSocket is not subject to COEP.
    const headers = {
      'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, headers).end();
    } else if (path === '/') {
      response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (path === '/agent') {
      response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(agentPage);
    } else if (path === '/dashboard.js') {
      response.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }).end(DASHBOARD_SCRIPT);
    } else if (Object.hasOwn(vendor, path)) {
      const file = vendor[path]!;
      let body: Buffer;
      try {
        body = readFileSync(file.path);
      } catch {
        const missing = path.startsWith('/browser/') ? 'not built (npm run build:browser)' : 'not installed';
        response.writeHead(500, headers).end(`${path}: ${missing} (${file.path})\n`);
        return;
      }
      response.writeHead(200, { ...headers, 'content-type': file.type }).end(body);
    } else {
      response.writeHead(404, headers).end();
    }
  });
  await listenOn(server, port, host, 'ERR_DASHBOARD');
  const actual = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actual}/`,
    agentUrl: `http://${urlHost}:${actual}/agent`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
