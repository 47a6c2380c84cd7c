import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors/index.ts';
import type { DeviceCertificate } from './identity.ts';
import { NAME_PATTERN } from './connection.ts';

/** One revoked device: its certificates issued at or before `before` are refused. */
export interface Revocation {
  name: string;
  /** ISO 8601: certificates of `name` issued up to this instant are revoked (one issued later is a re-issue). */
  before: string;
}

/** What `wasmig fleet revoke` writes (DIR/revoked.json), signed by the fleet authority. */
export interface RevocationDocument {
  v: 1;
  kind: 'wasmig-revocations';
  issuedAt: string;
  revoked: Revocation[];
  /** The authority's Ed25519 signature of the rest (base64url). */
  sig?: string;
}

/** How often an agent looks whether its revocation file changed. */
const RECHECK_MS = 2000;
/** Why a list was not taken, when its file is not there. */
const MISSING = 'no such file (wasmig fleet revoke writes it)';
/** Most entries a list may have (a fleet's devices, not a CA's). */
const MAX_ENTRIES = 100_000;

/** Checks a revocation document's shape; returns why it is not one, or the document. */
export function checkRevocations(x: unknown): RevocationDocument | string {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not a revocation list';
  const d = x as Record<string, unknown>;
  if (d.v !== 1 || d.kind !== 'wasmig-revocations' || typeof d.issuedAt !== 'string' || !Array.isArray(d.revoked) || d.revoked.length > MAX_ENTRIES) return 'not a revocation list (wasmig fleet revoke writes them)';
  for (const e of d.revoked as unknown[]) {
    const r = e as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || !NAME_PATTERN.test(r.name) || typeof r.before !== 'string' || Number.isNaN(Date.parse(r.before))) return 'a malformed entry in the revocation list';
  }
  return d as unknown as RevocationDocument;
}

/**
 * The fleet authority's revocation list, as a device enforces it (`--revoked FILE`): a
 * certificate of a revoked device issued at or before its revocation is refused like a
 * forged one. The file is read again when it changes (looked at every {@link RECHECK_MS}),
 * so a revocation reaches running agents without a restart; a changed file that is not
 * a list the authority signed is refused with a log line and the list in force stays.
 */
export class RevocationList {
  readonly #path: string;
  readonly #verify: (doc: RevocationDocument) => boolean;
  readonly #log: (line: string) => void;
  #entries = new Map<string, number>();
  /** When the list in force was issued (`''`: none yet): a list from the broker must be newer. */
  #issuedAt = '';
  #mtime = -1;
  #checkedAt = 0;

  /**
   * `verify`: whether the authority signed a document. `missingIsEmpty`: a file not there
   * yet is a list with nothing revoked, taken when it appears (a browser tab, whose list
   * is picked in the page whenever its user has one; a device given `--revoked` needs it).
   * Throws a {@link UsageError} when the file is missing (unless that is allowed) or not a signed list.
   */
  constructor(path: string, verify: (doc: RevocationDocument) => boolean, log: (line: string) => void = () => {}, options: { missingIsEmpty?: boolean } = {}) {
    this.#path = path;
    this.#verify = verify;
    this.#log = log;
    const error = this.#load();
    if (error === MISSING && options.missingIsEmpty) return;
    if (error !== undefined) throw new UsageError(`--revoked ${path}: ${error}`);
  }

  /**
   * Reads the file again now if it changed (`why` does so every {@link RECHECK_MS}; a page
   * that has just stored a list picked by its user asks at once); logs what it took.
   */
  recheck(now = Date.now()): void {
    this.#checkedAt = now;
    let mtime = this.#mtime;
    try { mtime = statSync(this.#path).mtimeMs; } catch { /* gone: the list in force stays */ }
    if (mtime === this.#mtime) return;
    const error = this.#load();
    if (error !== undefined) this.#log(`--revoked ${this.#path} changed but was not taken: ${error}; the list read before stays in force`);
    else this.#log(`--revoked ${this.#path} taken: ${this.#entries.size} device${this.#entries.size === 1 ? '' : 's'} revoked`);
  }

  /** Reads the file; returns why it was not taken, if it was not. */
  #load(): string | undefined {
    let text: string;
    let mtime: number;
    try {
      mtime = statSync(this.#path).mtimeMs;
      text = readFileSync(this.#path, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? MISSING : (cause as Error).message;
    }
    this.#mtime = mtime;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'not a revocation list (not JSON)';
    }
    const doc = checkRevocations(parsed);
    if (typeof doc === 'string') return doc;
    if (!this.#verify(doc)) return 'not signed by this fleet\'s authority';
    this.#take(doc);
    return undefined;
  }

  #take(doc: RevocationDocument): void {
    this.#entries = new Map(doc.revoked.map((r) => [r.name, Date.parse(r.before)]));
    this.#issuedAt = doc.issuedAt;
  }

  /**
   * A list that came from the broker (`wasmig fleet revoke --broker`: retained on
   * `wasmig/v1/fleet/revoked`). Taken when the authority signed it and it was issued
   * after the list in force, then written to this list's file (a temporary file and a
   * rename), so that a restart starts from it even if the broker has lost it. An older
   * list (replayed, or republished from an old copy) never replaces a newer one.
   * Returns what to log (undefined: the list in force, heard again).
   */
  offer(text: string): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'a revocation list from the broker was not taken: not JSON';
    }
    const doc = checkRevocations(parsed);
    if (typeof doc === 'string') return `a revocation list from the broker was not taken: ${doc}`;
    if (!this.#verify(doc)) return 'a revocation list from the broker was not taken: not signed by this fleet\'s authority';
    const issued = Date.parse(doc.issuedAt);
    if (Number.isNaN(issued)) return 'a revocation list from the broker was not taken: its issuedAt is not a time';
    const inForce = this.#issuedAt === '' ? -Infinity : Date.parse(this.#issuedAt);
    if (issued === inForce) return undefined;
    if (issued < inForce) return `a revocation list from the broker issued at ${doc.issuedAt} was not taken: the list in force was issued later (${this.#issuedAt})`;
    this.#take(doc);
    let kept = '';
    try {
      const temp = `${this.#path}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644 });
      renameSync(temp, this.#path);
      this.#mtime = statSync(this.#path).mtimeMs;
    } catch (error) {
      kept = ` (not written to ${this.#path}: ${(error as Error).message}; a restart starts from the file's list until the broker's comes again)`;
    }
    return `revocation list issued at ${doc.issuedAt} taken from the broker: ${this.#entries.size} device${this.#entries.size === 1 ? '' : 's'} revoked${kept}`;
  }

  /** Why `cert` is revoked, or undefined. */
  why(cert: DeviceCertificate, now = Date.now()): string | undefined {
    if (now - this.#checkedAt >= RECHECK_MS) this.recheck(now);
    const before = this.#entries.get(cert.name);
    if (before === undefined || Date.parse(cert.issuedAt) > before) return undefined;
    return `the certificate of ${cert.name} was revoked at ${new Date(before).toISOString()} (wasmig fleet revoke)`;
  }
}
