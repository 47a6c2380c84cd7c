import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRevocations, FleetAuthority, parseRoles, publishRevocations } from '../../agent/index.ts';
import type { RevocationDocument } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { one, parseArgs } from '../args.ts';
import type { OptionSpec, Parsed } from '../args.ts';
import { BROKER_OPTIONS, brokerOf } from './fleet-options.ts';

export const FLEET_OPTIONS: OptionSpec[] = [
  { name: 'dir', value: true },
  { name: 'roles', value: true },
  { name: 'out', value: true },
  { name: 'days', value: true },
  ...BROKER_OPTIONS,
];

export const FLEET_USAGE = `usage: wasmig fleet init [--dir DIR]
       wasmig fleet add NAME --roles ROLES [--days N] [--dir DIR] [--out FILE]
       wasmig fleet revoke NAME [--dir DIR] [--broker URL ...]
       wasmig fleet publish [--dir DIR] --broker URL [...]

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
Reading (ps, attach) needs a certified identity with any role. A certificate
carries the device's X25519 key too: blobs and output are sealed to it.
\`revoke\` adds NAME to DIR/revoked.json, signed by the authority: every
certificate of NAME issued until now is refused by devices given that file
(--revoked FILE; they read it again when it changes). \`add NAME\` afterwards
issues a new, valid one. With --broker, \`revoke\` also publishes the list,
retained, on the broker: agents with identities take it at once and keep it in
their state dir (or their --revoked FILE), without copying files; a list issued
before the one a device holds is never taken. \`publish\` publishes DIR/revoked.json
again (a broker that lost its retained messages).

options:
  --dir DIR             where the authority key is (default: ./fleet)
  --roles ROLES         comma-separated, e.g. run or start,migrate
  --out FILE            where add writes the identity (default: DIR/NAME.identity)
  --days N              the certificate expires N days after it is issued
                        (default: no expiry)
  --broker URL          revoke, publish: the broker to publish the list on, and
                        --username, --password, --password-file, --ca, --mqtt-version
                        as for every fleet command (the ACL lets one admin user
                        write it: docs/security.md)`;

function write(path: string, text: string): void {
  if (existsSync(path)) throw new UsageError(`${path} exists already: not overwritten (remove it first)`);
  writeFileSync(path, text, { mode: 0o600 });
}

function readAuthority(authorityFile: string, dir: string): Buffer {
  try {
    return readFileSync(authorityFile);
  } catch {
    throw new UsageError(`${authorityFile}: no fleet authority there (wasmig fleet init --dir ${dir})`);
  }
}

/** The revocation list in `file` (an empty one when there is none); it must be this authority's. */
function readList(file: string, authority: FleetAuthority): RevocationDocument {
  if (!existsSync(file)) return { v: 1, kind: 'wasmig-revocations', issuedAt: '', revoked: [] };
  let doc: RevocationDocument | string;
  try {
    doc = checkRevocations(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    doc = 'not JSON';
  }
  if (typeof doc === 'string') throw new UsageError(`${file}: ${doc}; not changed`);
  if (!authority.signed(doc)) throw new UsageError(`${file}: not signed by this fleet's authority; not changed`);
  return doc;
}

/** Publishes the list on the broker `--broker` names; says so. */
async function publish(p: Parsed, doc: RevocationDocument): Promise<void> {
  const connection = brokerOf(p);
  await publishRevocations(connection, doc);
  process.stdout.write(`wasmig fleet: the list (issued ${doc.issuedAt}, ${doc.revoked.length} device${doc.revoked.length === 1 ? '' : 's'}) is retained on ${connection.url}; agents with identities take it now\n`);
}

/** `wasmig fleet init|add|revoke|publish`. */
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
    const pem = readAuthority(authorityFile, dir);
    const daysText = one(p, 'days');
    const days = daysText === undefined ? undefined : Number(daysText);
    if (daysText !== undefined && !/^\d+(\.\d+)?$/.test(daysText)) throw new UsageError(`--days ${daysText}: a number of days`);
    const identity = FleetAuthority.fromPem(pem).issue(name, parseRoles(roles), { days });
    const out = one(p, 'out') ?? join(dir, `${name}.identity`);
    write(out, `${JSON.stringify(identity, null, 2)}\n`);
    const until = identity.certificate.expires === undefined ? '' : `, valid until ${identity.certificate.expires}`;
    process.stdout.write(`wasmig fleet: ${name} (${identity.certificate.roles.join(', ')}${until}) in ${out}; give it to that device only (--identity ${out})\n`);
    return 0;
  }
  if (verb === 'revoke') {
    if (name === undefined) throw new UsageError(`missing NAME\n\n${FLEET_USAGE}`);
    const authority = FleetAuthority.fromPem(readAuthority(authorityFile, dir));
    const file = join(dir, 'revoked.json');
    const list = readList(file, authority);
    const now = new Date().toISOString();
    const doc: RevocationDocument = {
      v: 1, kind: 'wasmig-revocations', issuedAt: now,
      revoked: [...list.revoked.filter((r) => r.name !== name), { name, before: now }],
    };
    const signed = authority.signDocument(doc);
    const temp = `${file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(signed, null, 2)}\n`, { mode: 0o644 });
    renameSync(temp, file);
    const onBroker = one(p, 'broker') !== undefined;
    process.stdout.write(`wasmig fleet: ${name}'s certificates issued until ${now} are revoked in ${file}${onBroker ? '' : `; copy it to every device (--revoked ${file}), or publish it (wasmig fleet publish --broker URL)`}\n`);
    if (onBroker) await publish(p, signed);
    return 0;
  }
  if (verb === 'publish') {
    if (name !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(name)}\n\n${FLEET_USAGE}`);
    if (one(p, 'broker') === undefined) throw new UsageError(`missing --broker URL (where to publish the list)\n\n${FLEET_USAGE}`);
    const authority = FleetAuthority.fromPem(readAuthority(authorityFile, dir));
    const file = join(dir, 'revoked.json');
    if (!existsSync(file)) throw new UsageError(`${file}: no revocation list yet (wasmig fleet revoke NAME makes it)`);
    await publish(p, readList(file, authority));
    return 0;
  }
  throw new UsageError(verb === undefined ? FLEET_USAGE : `unknown fleet command ${JSON.stringify(verb)}\n\n${FLEET_USAGE}`);
}
