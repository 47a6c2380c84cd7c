import { readFileSync } from 'node:fs';
import { startBroker } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { INSECURE_HELP, INSECURE_OPTION, refuseOpenFleet } from './exposure.ts';
import { untilStopped } from './fleet-options.ts';

export const BROKER_OPTIONS: OptionSpec[] = [
  { name: 'port', value: true },
  { name: 'host', value: true },
  { name: 'ws-port', value: true },
  { name: 'username', value: true },
  { name: 'password', value: true },
  { name: 'password-file', value: true },
  { name: 'tls-cert', value: true },
  { name: 'tls-key', value: true },
  INSECURE_OPTION,
];

export const BROKER_USAGE = `usage: wasmig broker [--port 1883] [--host 127.0.0.1] [OPTIONS]

Runs an MQTT broker (aedes, MQTT 3.1.1, over TCP and optionally WebSocket) in
this process, for a laptop or a lab fleet: agents and clients connect to it with
--broker mqtt://HOST:PORT (or ws://HOST:WSPORT). It keeps retained messages in
memory only; agents publish theirs again after a restart.
Stops on Ctrl-C.

options:
  --port N              TCP port (default 1883, 8883 with TLS; 0: any free port)
  --host ADDR           address to listen on (default 127.0.0.1)
  --ws-port N           also serve MQTT over WebSocket on this port (browsers;
                        agents and clients take --broker ws://HOST:N): same
                        address, same login, wss:// with --tls-cert
  --username NAME       require this user name...
  --password SECRET     ...and this password (or --password-file FILE)
  --tls-cert FILE       PEM certificate: speak MQTT over TLS (mqtts://)...
  --tls-key FILE        ...with this PEM private key
${INSECURE_HELP}

On an address other than loopback, a login is required (or --insecure).`;

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** `wasmig broker`: runs until stopped; returns the exit status. */
export async function brokerCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, BROKER_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${BROKER_USAGE}`);
  const port = integer(p, 'port', 0);
  if (port !== undefined && port > 65535) throw new UsageError(`--port ${port}: ports go up to 65535`);
  const wsPort = integer(p, 'ws-port', 0);
  if (wsPort !== undefined && wsPort > 65535) throw new UsageError(`--ws-port ${wsPort}: ports go up to 65535`);
  const cert = one(p, 'tls-cert');
  const key = one(p, 'tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const username = one(p, 'username');
  let password = one(p, 'password');
  const passwordFile = one(p, 'password-file');
  if (password === undefined && passwordFile !== undefined) password = readFile(passwordFile, '--password-file').toString('utf8').replace(/\r?\n$/, '');
  if ((username === undefined) !== (password === undefined)) throw new UsageError('--username and --password (or --password-file) go together');
  if (username === undefined) refuseOpenFleet('wasmig broker listening on', one(p, 'host') ?? '127.0.0.1', '--username and --password', flag(p, 'insecure'));
  const broker = await startBroker({
    port, host: one(p, 'host'), username, password, wsPort,
    tls: cert !== undefined && key !== undefined ? { cert: readFile(cert, '--tls-cert'), key: readFile(key, '--tls-key') } : undefined,
  });
  const login = username !== undefined ? ' (login required)' : '';
  process.stdout.write(`wasmig broker: listening on ${broker.url}${login}\n`);
  if (broker.wsUrl !== undefined) process.stdout.write(`wasmig broker: MQTT over WebSocket on ${broker.wsUrl}${login}\n`);
  const why = await untilStopped();
  await broker.close();
  process.stderr.write(`wasmig broker: stopped (${why})\n`);
  return 0;
}
