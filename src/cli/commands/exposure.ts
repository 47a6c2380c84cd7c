import { isIP } from 'node:net';
import { UsageError } from '../../errors/index.ts';
import type { OptionSpec } from '../args.ts';

/** `--insecure`: what `wasmig broker` and `wasmig agent` need to run an open fleet off loopback. */
export const INSECURE_OPTION: OptionSpec = { name: 'insecure' };

export const INSECURE_HELP = `  --insecure            run an unauthenticated fleet on an address other than
                        loopback (refused without it: anybody who reaches it
                        could start jobs, forge states and read every byte)`;

/**
 * Whether `host` (a name or an address, IPv6 with or without brackets) only reaches this
 * machine: `localhost`, 127.0.0.0/8, ::1 (or ::ffff:127.x.y.z).
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || h.startsWith('::ffff:127.');
  return false;
}

/**
 * Refuses to run an unauthenticated fleet where others can reach it (issue 16, secure by
 * default): `what` says which command does what (`wasmig broker listening on`), `where` the address, `missing` what would make it
 * authenticated. Loopback, or `--insecure`, pass.
 */
export function refuseOpenFleet(what: string, where: string, missing: string, insecure: boolean): void {
  if (insecure) return;
  let host = where;
  try {
    host = new URL(where).hostname;
  } catch { /* a bare host */ }
  if (isLoopback(host)) return;
  throw new UsageError(`${what} ${where} without ${missing}: anybody who reaches it could run jobs and read them; add ${missing}, or --insecure to accept that`);
}
