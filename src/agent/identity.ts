import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/index.ts';
import type { ChunkSealer } from './blob-cipher.ts';
import { BoxKeys } from './box-cipher.ts';
import { NAME_PATTERN } from './connection.ts';
import { RevocationList } from './revocation.ts';
import { canonicalJson } from './signing.ts';

/**
 * Device identities (issue 16): a fleet authority (an Ed25519 key pair made by `wasmig
 * fleet init`) issues each device a certificate naming it, its public key and its
 * roles (`wasmig fleet add`). Every message and job state a device sends carries its
 * certificate and its own Ed25519 signature; receivers check the certificate against
 * the authority's public key, the signature against the certificate's key, that the
 * sender is the one the certificate names, and that its roles allow what it asks.
 * Unlike the shared HMAC key, one device's key lets it act only as itself, and only
 * as far as its roles go.
 */

export const ROLES = ['run', 'start', 'migrate', 'admin'] as const;
/**
 * - `run`: an agent: runs jobs, takes them in handoffs and as a standby, publishes their states;
 * - `start`: starts jobs (and uploads their modules);
 * - `migrate`: moves and cancels moves of jobs;
 * - `admin`: all of these.
 */
export type Role = (typeof ROLES)[number];

/** What the authority signs: a device's name, keys, roles and how long it holds. */
export interface DeviceCertificate {
  /** 2 since certificates carry `box` (version 1 had no encryption key). */
  v: 2;
  name: string;
  roles: Role[];
  /** The device's Ed25519 public key: the JWK `x` (base64url of its 32 bytes). */
  key: string;
  /** The device's X25519 public key (base64url of its 32 bytes): what is sealed for the device is sealed to it (box-cipher.ts). */
  box: string;
  issuedAt: string;
  /** When the certificate stops being valid (ISO 8601); none: it does not expire. */
  expires?: string;
  /** The authority's Ed25519 signature of the rest (base64url). */
  sig: string;
}

/** What an identity issued before certificates carried an X25519 key gets told. */
function reissue(name: unknown): string {
  const who = typeof name === 'string' && NAME_PATTERN.test(name) ? name : 'NAME';
  return `the certificate of ${who} has no X25519 key (issued by an older wasmig, before end-to-end encryption): re-issue it with wasmig fleet add ${who} --roles ...`;
}

/** Which role a request of each type needs (requests not listed: any certified device). */
const NEEDS: Record<string, Role[]> = {
  start: ['start'],
  upload: ['start', 'run'],
  migrate: ['migrate'],
  cancel: ['migrate'],
  stop: ['start'],
  prepare: ['run'],
  round: ['run'],
  final: ['run'],
  commit: ['run'],
  abort: ['run'],
  standby: ['run'],
  checkpoint: ['run'],
  release: ['run'],
  lease: ['run'],
  /** A retained job state: only agents publish them. */
  state: ['run'],
  /** An agent's retained status or heartbeat. */
  presence: ['run'],
};

/** The role a device needs to send a message of `type` (job states: `run`). */
export function rolesFor(type: string): Role[] | undefined {
  return NEEDS[type];
}

/** Separates a client's name from its per-run suffix in `from` (`laptop~3fa9c2d1`); never in an agent name. */
export const CLIENT_SUFFIX = '~';

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function publicKeyOf(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function rawPublic(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new UsageError('not an Ed25519 key');
  return jwk.x;
}

function signBytes(privateKey: KeyObject, doc: object): string {
  const { sig: _sig, ...rest } = doc as { sig?: unknown };
  return b64url(edSign(null, Buffer.from(canonicalJson(rest)), privateKey));
}

function verifyBytes(publicKey: KeyObject, doc: object, sig: string): boolean {
  const { sig: _sig, ...rest } = doc as { sig?: unknown };
  try {
    return edVerify(null, Buffer.from(canonicalJson(rest)), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

/** The fleet authority: it issues device certificates. Its private key stays off the devices. */
export class FleetAuthority {
  readonly #privateKey: KeyObject;
  readonly publicKey: string;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.publicKey = rawPublic(createPublicKey(privateKey));
  }

  static generate(): FleetAuthority {
    return new FleetAuthority(generateKeyPairSync('ed25519').privateKey);
  }

  /** The authority from its PEM file (`wasmig fleet init` wrote it). */
  static fromPem(pem: string | Buffer): FleetAuthority {
    try {
      const key = createPrivateKey(pem);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
      return new FleetAuthority(key);
    } catch (error) {
      throw new UsageError(`not a fleet authority key (an Ed25519 private key in PEM): ${(error as Error).message}`);
    }
  }

  toPem(): string {
    return this.#privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /**
   * A new device: its key pairs (Ed25519 to sign, X25519 to receive sealed data) and the
   * certificate for them; `days`: how long the certificate holds (none: no expiry).
   */
  issue(name: string, roles: Role[], options: { now?: Date; days?: number } = {}): DeviceIdentityFile {
    if (!NAME_PATTERN.test(name)) throw new UsageError(`device name ${JSON.stringify(name)}: letters, digits, . _ - (at most 64, not starting with . _ -)`);
    if (roles.length === 0) throw new UsageError('a device needs at least one role (run, start, migrate, admin)');
    const days = options.days;
    if (days !== undefined && !(Number.isFinite(days) && days > 0 && days <= 36_500)) throw new UsageError(`--days ${days}: a number of days from 1 to 36500`);
    const now = options.now ?? new Date();
    const pair = generateKeyPairSync('ed25519');
    const box = BoxKeys.generate();
    const unsigned = {
      v: 2 as const, name, roles: [...new Set(roles)], key: rawPublic(pair.publicKey), box: box.publicKey, issuedAt: now.toISOString(),
      ...(days === undefined ? {} : { expires: new Date(now.getTime() + days * 86_400_000).toISOString() }),
    };
    const cert: DeviceCertificate = { ...unsigned, sig: signBytes(this.#privateKey, unsigned) };
    return { v: 2, certificate: cert, privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), boxKey: box.toPem(), authority: this.publicKey };
  }

  /** Signs a revocation list (revocation.ts) with the authority's key. */
  signDocument<T extends object>(doc: T): T & { sig: string } {
    return { ...doc, sig: signBytes(this.#privateKey, doc) };
  }

  /** Whether this authority signed `doc` (a revocation list). */
  signed(doc: object): boolean {
    const sig = (doc as { sig?: unknown }).sig;
    return typeof sig === 'string' && verifyBytes(publicKeyOf(this.publicKey), doc, sig);
  }
}

/** What `wasmig fleet add` writes for a device: its certificate, its private keys, the authority's public key. */
export interface DeviceIdentityFile {
  v: 2;
  certificate: DeviceCertificate;
  /** Ed25519, PEM (PKCS#8): signs. */
  privateKey: string;
  /** X25519, PEM (PKCS#8): opens what is sealed for this device. */
  boxKey: string;
  authority: string;
}


/** Parses roles from `run,start` (a usage error names the unknown one). */
export function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`--roles: unknown role ${JSON.stringify(r)} (roles: ${ROLES.join(', ')})`);
  return roles as Role[];
}

function checkCertificate(x: unknown): DeviceCertificate | string {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'no certificate';
  const c = x as Record<string, unknown>;
  if (c.v === 1) return reissue(c.name);
  if (typeof c.box !== 'string' || c.box.length !== 43 || (c.expires !== undefined && (typeof c.expires !== 'string' || c.expires.length > 64 || Number.isNaN(Date.parse(c.expires))))) return 'malformed certificate';
  if (c.v !== 2 || typeof c.name !== 'string' || !NAME_PATTERN.test(c.name) || typeof c.key !== 'string' || c.key.length !== 43
    || typeof c.issuedAt !== 'string' || c.issuedAt.length > 64 || typeof c.sig !== 'string' || c.sig.length !== 86
    || !Array.isArray(c.roles) || c.roles.length > ROLES.length || !c.roles.every((r) => (ROLES as readonly unknown[]).includes(r))) return 'malformed certificate';
  return c as unknown as DeviceCertificate;
}

/** How a device identity enforces revocation, and where it logs. */
export interface IdentityOptions {
  /** The authority's revocation list to enforce: a file `wasmig fleet revoke` wrote. */
  revoked?: string;
  /** A `revoked` file not there yet revokes nothing until it appears (a browser tab's list). */
  revokedMayBeMissing?: boolean;
  log?: (line: string) => void;
}

/**
 * One device's identity: it signs as itself, and checks what others send against the
 * authority. Same interface as the shared-key mode ({@link FleetKey}): `sign`, `verify`.
 * It also keeps the certificates it has verified, by device name: their X25519 keys are
 * what this device seals blobs for (`sealerFor`).
 */
export class DeviceIdentity {
  readonly certificate: DeviceCertificate;
  readonly #privateKey: KeyObject;
  readonly #authority: KeyObject;
  readonly #authorityKey: string;
  /** This device's X25519 key: it opens what others sealed for it. */
  readonly opener: BoxKeys;
  /** Certificates already checked, by their whole text (not by their signature: an altered copy keeps that): a fleet has few devices. */
  readonly #checked = new Map<string, KeyObject>();
  /** The newest verified certificate of each device (by `issuedAt`): whom blobs are sealed for. */
  readonly #directory = new Map<string, DeviceCertificate>();
  /** Certificates the authority revoked (`wasmig fleet revoke`), when this device was given the list. */
  readonly #revoked: RevocationList | undefined;
  readonly #now: () => number;

  /**
   * `revoked`: the authority's revocation list to enforce (`--revoked FILE`, written by
   * `wasmig fleet revoke`; `revokedMayBeMissing`: a file not there yet revokes nothing
   * until it appears, as in a browser tab); `now`: the clock certificates expire by (tests).
   */
  constructor(file: DeviceIdentityFile, options: IdentityOptions & { now?: () => number } = {}) {
    const cert = checkCertificate(file.certificate);
    if (typeof cert === 'string') throw new UsageError(`identity: ${cert}`);
    this.certificate = cert;
    this.#now = options.now ?? Date.now;
    try {
      this.#privateKey = createPrivateKey(file.privateKey);
      this.#authority = publicKeyOf(file.authority);
      this.#authorityKey = file.authority;
    } catch (error) {
      throw new UsageError(`identity: ${(error as Error).message}`);
    }
    const authority = this.#authority;
    this.#revoked = options.revoked === undefined ? undefined : new RevocationList(options.revoked, (doc) => verifyBytes(authority, doc, doc.sig ?? ''), options.log, { missingIsEmpty: options.revokedMayBeMissing === true });
    if (rawPublic(createPublicKey(this.#privateKey)) !== cert.key) throw new UsageError('identity: the private key is not the one the certificate names');
    if (typeof file.boxKey !== 'string') throw new UsageError(`identity: ${reissue(cert.name)}`);
    this.opener = BoxKeys.fromPem(file.boxKey);
    if (this.opener.publicKey !== cert.box) throw new UsageError('identity: the X25519 key is not the one the certificate names');
    if (this.#certificateKey(cert) === undefined) throw new UsageError(`identity: the certificate of ${cert.name} is not signed by this fleet's authority`);
    const invalid = this.#invalid(cert);
    if (invalid !== undefined) throw new UsageError(`identity: ${invalid}`);
    this.#directory.set(cert.name, cert);
  }

  /** Reads an identity file (`wasmig fleet add` wrote it); `revoked`: the authority's revocation list to enforce. */
  static fromFile(path: string, options: IdentityOptions = {}): DeviceIdentity {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new UsageError(`--identity ${path}: ${code === 'ENOENT' ? 'no such file' : (cause as Error).message}`);
    }
    return DeviceIdentity.fromText(text, `--identity ${path}`, options);
  }

  /** An identity file's text; `source` names it in errors (`--identity PATH`, or a file picked in a page). */
  static fromText(text: string, source: string, options: IdentityOptions = {}): DeviceIdentity {
    let parsed: DeviceIdentityFile;
    try {
      parsed = JSON.parse(text) as DeviceIdentityFile;
    } catch {
      throw new UsageError(`${source}: not an identity file (wasmig fleet add writes them)`);
    }
    try {
      return new DeviceIdentity(parsed, options);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${source}: ${error.message.replace(/^identity: /, '')}`);
      throw error;
    }
  }

  get name(): string {
    return this.certificate.name;
  }

  /** The authority's public key (base64url): revocation lists must carry its signature. */
  get authority(): string {
    return this.#authorityKey;
  }

  /** Why a certificate the authority signed is no longer valid (expired, revoked), or undefined. */
  /**
   * A revocation list published through the broker (`wasmig/v1/fleet/revoked`): taken
   * when the authority signed it and it is newer than the one in force (see
   * {@link RevocationList.offer}); returns what to log. A device given no list file
   * takes none.
   */
  offerRevocations(text: string): string | undefined {
    if (this.#revoked === undefined) return 'a revocation list from the broker was not taken: this device keeps no list (--revoked FILE, or an agent\'s --state-dir)';
    return this.#revoked.offer(text);
  }

  /** Reads the revocation list again now if its file changed (a page that just stored one); logs what it took. */
  recheckRevocations(): void {
    this.#revoked?.recheck(this.#now());
  }

  #invalid(cert: DeviceCertificate): string | undefined {
    if (cert.expires !== undefined && Date.parse(cert.expires) <= this.#now()) return `the certificate of ${cert.name} expired at ${cert.expires} (wasmig fleet add ${cert.name} issues a new one)`;
    return this.#revoked?.why(cert, this.#now());
  }

  /** The public key of a certificate the authority signed (undefined: it did not). */
  #certificateKey(cert: DeviceCertificate): KeyObject | undefined {
    const text = canonicalJson(cert);
    const known = this.#checked.get(text);
    if (known) return known;
    if (!verifyBytes(this.#authority, cert, cert.sig)) return undefined;
    let key: KeyObject;
    try {
      key = publicKeyOf(cert.key);
    } catch {
      return undefined;
    }
    if (this.#checked.size > 10_000) this.#checked.clear();
    this.#checked.set(text, key);
    return key;
  }

  /** The message with this device's certificate and signature. */
  sign<T extends object>(message: T): T & { sig: string } {
    const withCert = { ...message, cert: this.certificate };
    return { ...withCert, sig: signBytes(this.#privateKey, withCert) };
  }

  /**
   * Why the message is not acceptable, or undefined when it is: `signer` is who it says
   * sent it (its `from`, or a job state's `agent`), `type` what it asks (for the roles).
   */
  verify(message: object, claim: { signer?: string; type?: string } = {}): string | undefined {
    const m = message as { sig?: unknown; cert?: unknown };
    if (m.sig === undefined) return 'unsigned';
    if (typeof m.sig !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(m.sig)) return 'malformed signature';
    const cert = checkCertificate(m.cert);
    if (typeof cert === 'string') return `${cert} (this fleet uses device identities)`;
    const key = this.#certificateKey(cert);
    if (!key) return `the certificate of ${cert.name} is not signed by this fleet's authority`;
    const invalid = this.#invalid(cert);
    if (invalid !== undefined) return invalid;
    if (!verifyBytes(key, message, m.sig)) return `bad signature (forged or altered; not signed by ${cert.name}'s key)`;
    const signer = claim.signer;
    if (signer !== undefined && signer !== cert.name && !signer.startsWith(`${cert.name}${CLIENT_SUFFIX}`)) return `sent as ${signer}, but signed by ${cert.name}`;
    const needs = claim.type === undefined ? undefined : rolesFor(claim.type);
    if (needs && !cert.roles.includes('admin') && !needs.some((r) => cert.roles.includes(r))) {
      const what = claim.type === 'state' ? 'publish job states' : claim.type === 'presence' ? 'publish agent statuses or heartbeats' : `send ${claim.type} requests`;
      return `${cert.name} may not ${what} (roles: ${cert.roles.join(', ')}; needs ${needs.join(' or ')})`;
    }
    const known = this.#directory.get(cert.name);
    // A re-issued device (a new key) replaces its older certificate; an old one that still verifies does not come back.
    if (!known || known.issuedAt <= cert.issuedAt) this.#directory.set(cert.name, cert);
    return undefined;
  }

  /**
   * Seals blobs for device `name` (a fresh X25519 key per call: per transfer, or per handoff), or
   * undefined when no valid certificate of it has come by yet (the caller reads its
   * signed status and asks again).
   */
  sealerFor(name: string): ChunkSealer | undefined {
    const cert = this.#directory.get(name);
    if (!cert || this.#invalid(cert) !== undefined) return undefined;
    return this.opener.sealerFor(cert.box);
  }
}
