import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetAuthority, parseRoles } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';

export const FLEET_OPTIONS: OptionSpec[] = [
  { name: 'dir', value: true },
  { name: 'roles', value: true },
  { name: 'out', value: true },
];

export const FLEET_USAGE = `usage: wasmig fleet init [--dir DIR]
       wasmig fleet add NAME --roles ROLES [--dir DIR] [--out FILE]

Device identities. \`init\` makes the fleet authority: an Ed25519 key pair whose
private half (DIR/authority.key) signs device certificates and stays off the
devices. \`add\` makes a device's key pair and certificate, signed by the
authority, in one identity file (DIR/NAME.identity, or FILE) that the device
uses with --identity FILE. Every message and job state is then signed by its
sender; receivers check the certificate, that the sender is who it names, and
its roles:
  run       an agent: runs jobs, takes handoffs and standby copies
  start     starts jobs (wasmig run --on)
  migrate   moves jobs (wasmig migrate)
  admin     all of these
Reading (ps, attach) needs a certified identity with any role.

options:
  --dir DIR             where the authority key is (default: ./fleet)
  --roles ROLES         comma-separated, e.g. run or start,migrate
  --out FILE            where add writes the identity (default: DIR/NAME.identity)`;

function write(path: string, text: string): void {
  if (existsSync(path)) throw new UsageError(`${path} exists already: not overwritten (remove it first)`);
  writeFileSync(path, text, { mode: 0o600 });
}

/** `wasmig fleet init|add`. */
export async function fleetCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, FLEET_OPTIONS, false);
  const [verb, name, ...rest] = p.positionals;
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}\n\n${FLEET_USAGE}`);
  const dir = one(p, 'dir') ?? 'fleet';
  const authorityFile = join(dir, 'authority.key');
  if (verb === 'init') {
    if (name !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(name)}\n\n${FLEET_USAGE}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const authority = FleetAuthority.generate();
    write(authorityFile, authority.toPem());
    process.stdout.write(`wasmig fleet: authority key in ${authorityFile} (keep it off the devices); public key ${authority.publicKey}\n`);
    return 0;
  }
  if (verb === 'add') {
    if (name === undefined) throw new UsageError(`missing NAME\n\n${FLEET_USAGE}`);
    const roles = one(p, 'roles');
    if (roles === undefined) throw new UsageError(`missing --roles (run, start, migrate, admin)\n\n${FLEET_USAGE}`);
    let pem: Buffer;
    try {
      pem = readFileSync(authorityFile);
    } catch {
      throw new UsageError(`${authorityFile}: no fleet authority there (wasmig fleet init --dir ${dir})`);
    }
    const identity = FleetAuthority.fromPem(pem).issue(name, parseRoles(roles));
    const out = one(p, 'out') ?? join(dir, `${name}.identity`);
    write(out, `${JSON.stringify(identity, null, 2)}\n`);
    process.stdout.write(`wasmig fleet: ${name} (${identity.certificate.roles.join(', ')}) in ${out}; give it to that device only (--identity ${out})\n`);
    return 0;
  }
  throw new UsageError(verb === undefined ? FLEET_USAGE : `unknown fleet command ${JSON.stringify(verb)}\n\n${FLEET_USAGE}`);
}
