import type { ConnectionOptions, MessageSigner } from '../../agent/index.ts';
import { DeviceIdentity, FleetKey, resolveConnection } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { one } from '../args.ts';
import type { OptionSpec, Parsed } from '../args.ts';

/** Options every fleet command takes: where the broker is, how to log in, the fleet key. */
/** Where the broker is and how to log in (`wasmig fleet revoke --broker` takes only these). */
export const BROKER_OPTIONS: OptionSpec[] = [
  { name: 'broker', value: true },
  { name: 'username', value: true },
  { name: 'password', value: true },
  { name: 'password-file', value: true },
  { name: 'ca', value: true },
  { name: 'mqtt-version', value: true },
];

export const CONNECTION_OPTIONS: OptionSpec[] = [
  ...BROKER_OPTIONS,
  { name: 'key-file', value: true },
  { name: 'identity', value: true },
  { name: 'revoked', value: true },
];

export const CONNECTION_HELP = `broker connection (every fleet command):
  --broker URL          mqtt://HOST:PORT or mqtts://HOST:PORT (default: $WASMIG_BROKER,
                        else mqtt://127.0.0.1:1883)
  --username NAME       broker user name (default: $WASMIG_USERNAME)
  --password SECRET     broker password (default: $WASMIG_PASSWORD)
  --password-file FILE  read the broker password from FILE
  --ca FILE             trust this PEM CA certificate for mqtts:// (default: $WASMIG_CA)
  --mqtt-version V      auto (default: 5 if the broker speaks it, else 3.1.1), 3.1.1 or 5
  --key-file FILE       the fleet key: sign requests with HMAC-SHA256 and accept only
                        signed ones (default: $WASMIG_KEY_FILE)
  --identity FILE       this device's identity (wasmig fleet add): sign as this
                        device, accept only devices the fleet authority certified,
                        with the roles for what they ask (default: $WASMIG_IDENTITY)
  --revoked FILE        with --identity: the authority's revocation list (wasmig
                        fleet revoke); certificates it names are refused, and the
                        file is read again when it changes (default: $WASMIG_REVOKED);
                        an agent also takes newer lists from the broker (wasmig
                        fleet revoke --broker) and keeps them there, or without
                        --revoked in its state dir`;

/** The broker connection a command line asks for ({@link BROKER_OPTIONS}). */
export function brokerOf(p: Parsed, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  return resolveConnection({
    broker: one(p, 'broker'),
    username: one(p, 'username'),
    password: one(p, 'password'),
    passwordFile: one(p, 'password-file'),
    ca: one(p, 'ca'),
    mqttVersion: one(p, 'mqtt-version'),
  }, env);
}

/**
 * The broker connection, and the fleet key or device identity, a command line asks for.
 * `revokedDefault`: with an identity and no `--revoked`, the file the device keeps the
 * revocation lists it takes from the broker in (an agent's state dir), empty until one comes.
 */
export function connectionOf(p: Parsed, env: NodeJS.ProcessEnv = process.env, options: { revokedDefault?: string } = {}): { connection: ConnectionOptions; key: MessageSigner | undefined } {
  const connection = brokerOf(p, env);
  const keyFile = one(p, 'key-file') ?? (env.WASMIG_KEY_FILE || undefined);
  const identity = one(p, 'identity') ?? (env.WASMIG_IDENTITY || undefined);
  if (keyFile !== undefined && identity !== undefined) throw new UsageError('--key-file and --identity are two ways to sign: give one (a fleet uses one of them)');
  const revoked = one(p, 'revoked') ?? (env.WASMIG_REVOKED || undefined);
  if (revoked !== undefined && identity === undefined) throw new UsageError('--revoked goes with --identity (a shared key cannot tell devices apart)');
  const log = (line: string): void => { process.stderr.write(`wasmig: ${line}\n`); };
  if (identity !== undefined && revoked === undefined && options.revokedDefault !== undefined) {
    return { connection, key: DeviceIdentity.fromFile(identity, { revoked: options.revokedDefault, revokedMayBeMissing: true, log }) };
  }
  if (identity !== undefined) return { connection, key: DeviceIdentity.fromFile(identity, { revoked, log }) };
  return { connection, key: keyFile === undefined ? undefined : FleetKey.fromFile(keyFile) };
}

/**
 * Resolves when the process is asked to stop (SIGINT, SIGTERM), or when its parent
 * process is gone and WASMIG_EXIT_WITH_PARENT=1 (so that servers started by tests stop by
 * themselves even if the test runner dies).
 */
export function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    let timer: NodeJS.Timeout | undefined;
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer) clearInterval(timer);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (process.env.WASMIG_EXIT_WITH_PARENT === '1') {
      timer = setInterval(() => { if (process.ppid !== parent) done('parent exited'); }, 500);
    }
  });
}
