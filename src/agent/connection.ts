import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/index.ts';

/** The broker every command uses when neither `--broker` nor `WASMIG_BROKER` names one. */
export const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';

/**
 * How to reach the broker: its URL and what mqtt.js needs to log in (user name and
 * password) and to trust a TLS broker (a CA certificate). Passed through to mqtt.js as is.
 */
export interface ConnectionOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL (user:password@ in it works too). */
  url: string;
  username?: string;
  password?: string;
  /** PEM CA certificate(s) to trust for `mqtts://` and `wss://`. */
  ca?: Buffer;
  /** Which MQTT version to speak: `auto` tries 5 and falls back to 3.1.1 (default). */
  protocol?: 'auto' | '3.1.1' | '5';
}

/** What a command line gave about the broker; anything missing comes from the environment. */
export interface ConnectionFlags {
  broker?: string;
  username?: string;
  password?: string;
  passwordFile?: string;
  ca?: string;
  mqttVersion?: string;
}

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']);

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (cause as Error).message}`);
  }
}

/**
 * Resolves the broker connection: flags first, then `WASMIG_BROKER`, `WASMIG_USERNAME`,
 * `WASMIG_PASSWORD`, `WASMIG_CA`, then the default broker. Files are read here, so a
 * wrong path is a usage error before anything connects.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const url = flags.broker ?? env.WASMIG_BROKER ?? DEFAULT_BROKER;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`broker ${JSON.stringify(url)} is not a URL (expected e.g. mqtt://host:1883 or mqtts://host:8883)`);
  }
  if (!SCHEMES.has(parsed.protocol)) {
    throw new UsageError(`broker ${url}: unsupported scheme ${parsed.protocol} (use mqtt://, mqtts://, ws:// or wss://)`);
  }
  const options: ConnectionOptions = { url };
  const username = flags.username ?? env.WASMIG_USERNAME;
  if (username !== undefined && username !== '') options.username = username;
  let password = flags.password;
  if (password === undefined && flags.passwordFile !== undefined) password = readText(flags.passwordFile, '--password-file').replace(/\r?\n$/, '');
  password ??= env.WASMIG_PASSWORD;
  if (password !== undefined && password !== '') options.password = password;
  const ca = flags.ca ?? env.WASMIG_CA;
  if (ca !== undefined && ca !== '') options.ca = Buffer.from(readText(ca, '--ca'));
  const version = flags.mqttVersion ?? env.WASMIG_MQTT_VERSION;
  if (version !== undefined && version !== '') {
    if (version !== 'auto' && version !== '3.1.1' && version !== '5') throw new UsageError(`--mqtt-version ${version}: expected auto, 3.1.1 or 5`);
    options.protocol = version;
  }
  return options;
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Names of agents and jobs are MQTT topic levels: letters, digits, `.`, `_`, `-`. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks an agent or job name given by a user. */
export function checkName(name: string, what: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`${what} ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)`);
  }
  return name;
}
