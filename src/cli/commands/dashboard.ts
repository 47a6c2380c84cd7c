import { startDashboard } from '../../dashboard/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { INSECURE_OPTION, isLoopback } from './exposure.ts';
import { untilStopped } from './fleet-options.ts';

export const DASHBOARD_OPTIONS: OptionSpec[] = [
  { name: 'port', value: true },
  { name: 'host', value: true },
  { name: 'broker', value: true },
  INSECURE_OPTION,
];

export const DASHBOARD_USAGE = `usage: wasmig dashboard --broker ws://HOST:PORT [--port 8090] [--host 127.0.0.1]

Serves a page of the fleet: agents (online, tier, CPU, memory, jobs) with a live chart
of each one's CPU, and jobs (state, agent, program, epoch), with controls to start a
job (upload a .wasm), migrate it, stop it, follow its output, and a chart of each
move's downtime and bytes. At /agent?name=NAME, a page whose tab joins the fleet as
agent NAME (jobs in Web Workers, on the browser's WebAssembly). The pages talk to the
broker themselves, over MQTT-over-WebSocket: start the broker with --ws-port (or give
mosquitto a websockets listener). Prints both URLs; stops on Ctrl-C. The controls and
the browser agent need npm run build:browser (dist/browser); without it the page
stays read-only.

options:
  --broker URL          ws://HOST:PORT or wss://HOST:PORT (default: $WASMIG_BROKER
                        when it is one); user:password@ in it is the page's login
  --port N              HTTP port (default 8090; 0: any free port)
  --host ADDR           address to serve on (default 127.0.0.1)
  --insecure            serve on an address other than loopback (the page lists the
                        fleet, and carries the broker login if there is one)

The page shows what the broker holds; it does not check signatures and holds no fleet
key (in a fleet that signs, agents refuse its requests, and a tab does not join).`;

/** `wasmig dashboard`: runs until stopped; returns the exit status. */
export async function dashboardCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, DASHBOARD_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${DASHBOARD_USAGE}`);
  const port = integer(p, 'port', 0);
  if (port !== undefined && port > 65535) throw new UsageError(`--port ${port}: ports go up to 65535`);
  const env = process.env['WASMIG_BROKER'];
  const broker = one(p, 'broker') ?? (env !== undefined && /^wss?:\/\//.test(env) ? env : undefined);
  if (broker === undefined) throw new UsageError('wasmig dashboard needs --broker ws://HOST:PORT (the page reaches the broker over WebSocket: wasmig broker --ws-port PORT)');
  const host = one(p, 'host') ?? '127.0.0.1';
  if (!isLoopback(host) && !flag(p, 'insecure')) {
    throw new UsageError(`--host ${host}: the dashboard serves loopback only (its page lists the fleet and carries the broker login); add --insecure to serve there`);
  }
  // WASMIG_BROWSER_BUNDLES: the browser agent's bundles from elsewhere than dist/browser (tests build their own).
  const bundles = process.env['WASMIG_BROWSER_BUNDLES'] || undefined;
  const dashboard = await startDashboard({ port, host, broker, ...(bundles ? { bundles } : {}) });
  process.stdout.write(`wasmig dashboard: ${dashboard.url} (broker ${broker.replace(/\/\/[^@/]*@/, '//')})\n`);
  process.stdout.write(`wasmig dashboard: browser agent: ${dashboard.agentUrl}?name=tab (a tab opened there joins the fleet)\n`);
  const why = await untilStopped();
  await dashboard.close();
  process.stderr.write(`wasmig dashboard: stopped (${why})\n`);
  return 0;
}
