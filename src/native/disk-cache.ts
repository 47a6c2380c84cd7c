/**
 * Rewritten modules kept on disk between processes, so that a program's second start
 * skips the rewrite (0.4 s per MB of code, cold) and goes straight to V8's compile.
 * One entry per (module sha256, rewriter version, rewrite options), holding the
 * rewritten bytes and everything the tier reads from a `RewrittenModule` (safepoints,
 * pc maps, entries): a hit never runs the rewriter.
 *
 * The cache is a directory shared by every process of the user, so:
 * - an entry is written to a temporary file in the same directory, then renamed over
 *   its name: readers see the old entry or the new one, never half of one, and two
 *   writers of the same entry both leave a whole one;
 * - an entry carries the sha256 of its payload: a truncated or corrupt one is ignored
 *   (and said so once on stderr), rewritten, and replaced;
 * - the directory is bounded (`maxBytes`): after each write, entries least recently
 *   used (their modification time, set again at every hit) are removed until the rest
 *   fit. Temporary files left by a crashed writer go after an hour.
 * Nothing here ever fails a run: a cache that cannot be read or written is a miss.
 *
 * Entries are for this machine: typed arrays are stored in its byte order.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BodyFacts } from '../compile/index.ts';
import { rewriteOptionsKey } from './rewrite.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';
import { decodeRewrite, encodeRewrite, rewriteKey } from './rewrite-codec.ts';
import type { StoredRewrite } from './rewrite-codec.ts';

/** Bumped whenever what an entry holds changes shape (the code's own fingerprint covers the rest). */
export const DISK_CACHE_FORMAT = 2;
/** Default bound on the cache directory: 512 MiB (a 1 MB program's entry is about 3 MB). */
export const DEFAULT_DISK_CACHE_BYTES = 512 * 1024 * 1024;

const MAGIC = 0x43524d57; // 'WMRC', little-endian
const HEADER = 4 + 4 + 4 + 32; // magic, format, payload length, sha256 of the payload
const SUFFIX = '.rw';
/** A temporary file older than this was left by a writer that died. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Where and how large: plain data, so a worker thread can open the same cache. */
export interface DiskCacheConfig {
  /** The cache directory (made on first write). */
  dir: string;
  /** Bound on the bytes of all entries (default {@link DEFAULT_DISK_CACHE_BYTES}). */
  maxBytes?: number;
}

/** Where rewritten modules outlive the process: what `RewriteCache` asks before rewriting. */
export interface RewriteStore {
  /** The stored rewrite of `moduleBytes` with `options`, or undefined. */
  load(moduleBytes: Uint8Array, options: RewriteOptions): RewrittenModule | undefined;
  /**
   * What validating the bodies of `moduleBytes` found, when its rewrite with `options` is
   * stored: a module loaded with it skips that validation (see `BodyFacts`). A later
   * {@link load} of the same entry does not read it again.
   */
  facts?(moduleBytes: Uint8Array, options: RewriteOptions): BodyFacts | undefined;
  /** Keeps `rewritten`, and `facts` of the original module, for the next process (best effort: never throws). */
  store(moduleBytes: Uint8Array, options: RewriteOptions, rewritten: RewrittenModule, facts: BodyFacts): void;
  /** How to open the same store in another thread; undefined when it cannot be. */
  readonly config?: DiskCacheConfig;
}

/**
 * The cache directory the CLI uses: `$WASMIG_CACHE_DIR` when set (`off` or empty: no
 * cache), else `$XDG_CACHE_HOME/wasmig` (an absolute path, as the XDG spec asks), else
 * `~/.cache/wasmig`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env.WASMIG_CACHE_DIR;
  if (own !== undefined) return own === '' || own === 'off' ? undefined : own;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'wasmig');
  return join(homedir(), '.cache', 'wasmig');
}

/**
 * A fingerprint of the code whose output an entry is: the rewriter and the layers it
 * reads (decoding, validation, the module model). Any change to them, even between two
 * builds of one version, makes new keys; entries of old code age out by the bound.
 */
function codeFingerprint(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const hash = createHash('sha256').update(`format ${DISK_CACHE_FORMAT}\n`);
  for (const folder of ['native', 'validate', 'binary', 'wasm', 'compile']) {
    const dir = join(here, '..', folder);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(ext)).sort();
    } catch {
      continue; // bundled: the format number alone
    }
    for (const name of names) hash.update(`${folder}/${name}\n`).update(readFileSync(join(dir, name)));
  }
  return hash.digest('hex');
}

/** Counts kept by a {@link DiskRewriteCache}. */
export interface DiskCacheStats {
  /** Entries found whole and used. */
  hits: number;
  /** Entries not there. */
  misses: number;
  /** Entries found but not used: truncated, corrupt, of another format or key. */
  corrupt: number;
  /** Entries written. */
  written: number;
  /** Entries removed to keep within the bound. */
  evicted: number;
}

/** A directory of rewritten modules (see the file's comment). */
export class DiskRewriteCache implements RewriteStore {
  readonly config: DiskCacheConfig;
  readonly #maxBytes: number;
  readonly #warn: (message: string) => void;
  /** Entries already reported corrupt (each is reported once). */
  readonly #reported = new Set<string>();
  #fingerprint: string | undefined;
  /** sha256 of each module seen (a load and then a store hash it once). */
  readonly #shas = new WeakMap<Uint8Array, string>();
  /** Entries read by {@link facts}, by key, until {@link load} takes them. */
  readonly #read = new Map<string, StoredRewrite>();
  /** What this cache did so far, for tests and measurements. */
  readonly stats: DiskCacheStats = { hits: 0, misses: 0, corrupt: 0, written: 0, evicted: 0 };

  /**
   * @param config the directory and its bound
   * @param warn where a corrupt entry is reported (default: a line on stderr)
   */
  constructor(config: DiskCacheConfig, warn: (message: string) => void = (m) => process.stderr.write(`wasmig: ${m}\n`)) {
    this.config = { dir: config.dir, maxBytes: config.maxBytes ?? DEFAULT_DISK_CACHE_BYTES };
    this.#maxBytes = this.config.maxBytes!;
    this.#warn = warn;
  }

  /** The key of an entry: the module's sha256, the code's fingerprint, the options. */
  key(moduleBytes: Uint8Array, options: RewriteOptions): string {
    this.#fingerprint ??= codeFingerprint();
    let sha = this.#shas.get(moduleBytes);
    if (sha === undefined) {
      sha = createHash('sha256').update(moduleBytes).digest('hex');
      this.#shas.set(moduleBytes, sha);
    }
    // Options in a fixed order, so that {a, b} and {b, a} are one entry.
    return `${sha}:${this.#fingerprint}:${rewriteOptionsKey(options)}`;
  }

  /** The file of the entry with `key`. */
  pathOf(key: string): string {
    return join(this.config.dir, createHash('sha256').update(key).digest('hex').slice(0, 40) + SUFFIX);
  }

  facts(moduleBytes: Uint8Array, options: RewriteOptions): BodyFacts | undefined {
    const key = this.key(moduleBytes, options);
    const entry = this.#read.get(key) ?? this.#readEntry(key);
    if (entry !== undefined) this.#read.set(key, entry);
    return entry?.facts;
  }

  load(moduleBytes: Uint8Array, options: RewriteOptions): RewrittenModule | undefined {
    const key = this.key(moduleBytes, options);
    const entry = this.#read.get(key) ?? this.#readEntry(key);
    this.#read.delete(key);
    return entry?.rewritten;
  }

  /** The entry of `key`, checked whole; undefined when missing or not whole (reported once). */
  #readEntry(key: string): StoredRewrite | undefined {
    const path = this.pathOf(key);
    let file: Buffer;
    try {
      file = readFileSync(path);
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const why = this.#check(file);
    let entry: StoredRewrite | undefined;
    let problem = why;
    if (problem === undefined) {
      try {
        const payload = file.subarray(HEADER);
        if (rewriteKey(payload) !== key) problem = 'another key';
        else entry = decodeRewrite(payload);
      } catch {
        problem = 'undecodable';
      }
    }
    if (entry === undefined) {
      this.stats.corrupt++;
      if (!this.#reported.has(path)) {
        this.#reported.add(path);
        this.#warn(`ignoring the cache entry ${path} (${problem}): rewriting it`);
      }
      return undefined;
    }
    this.stats.hits++;
    // Recently used: eviction goes by modification time (access times are often not kept).
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch { /* removed meanwhile: still a hit */ }
    return entry;
  }

  /** Why `file` is not a whole entry, or undefined when it is. */
  #check(file: Buffer): string | undefined {
    if (file.length < HEADER) return 'truncated';
    if (file.readUInt32LE(0) !== MAGIC) return 'not an entry';
    if (file.readUInt32LE(4) !== DISK_CACHE_FORMAT) return `format ${file.readUInt32LE(4)}`;
    if (file.readUInt32LE(8) !== file.length - HEADER) return 'truncated';
    const sum = createHash('sha256').update(file.subarray(HEADER)).digest();
    if (!sum.equals(file.subarray(12, HEADER))) return 'checksum mismatch';
    return undefined;
  }

  store(moduleBytes: Uint8Array, options: RewriteOptions, rewritten: RewrittenModule, facts: BodyFacts): void {
    this.storeEncoded(moduleBytes, options, this.encode(moduleBytes, options, rewritten, facts));
  }

  /** The entry's payload for a rewrite of `moduleBytes` (what {@link storeEncoded} takes). */
  encode(moduleBytes: Uint8Array, options: RewriteOptions, rewritten: RewrittenModule, facts: BodyFacts): Uint8Array {
    return encodeRewrite(this.key(moduleBytes, options), rewritten, facts);
  }

  /**
   * Stores a payload {@link encode} made: the rewriter's worker encodes a rewrite once,
   * for this cache and for the main thread it posts it to (`rewrite-worker.ts`).
   */
  storeEncoded(moduleBytes: Uint8Array, options: RewriteOptions, payload: Uint8Array): void {
    const key = this.key(moduleBytes, options);
    const path = this.pathOf(key);
    if (HEADER + payload.length > this.#maxBytes) return; // would evict everything, itself next
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(DISK_CACHE_FORMAT, 4);
    header.writeUInt32LE(payload.length, 8);
    createHash('sha256').update(payload).digest().copy(header, 12);
    const temp = join(this.config.dir, `.${randomBytes(8).toString('hex')}.${process.pid}.tmp`);
    try {
      mkdirSync(this.config.dir, { recursive: true });
      const fd = openSync(temp, 'wx', 0o644);
      try {
        writeSync(fd, header);
        writeSync(fd, payload);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
      this.stats.written++;
    } catch {
      try { unlinkSync(temp); } catch { /* never made */ }
      return;
    }
    this.#evict();
  }

  /** Removes the least recently used entries until the rest fit in the bound, and stale temporary files. */
  #evict(): void {
    let names: string[];
    try {
      names = readdirSync(this.config.dir);
    } catch {
      return;
    }
    const now = Date.now();
    const entries: { path: string; size: number; used: number }[] = [];
    let total = 0;
    for (const name of names) {
      const path = join(this.config.dir, name);
      try {
        const st = statSync(path);
        if (name.endsWith('.tmp')) {
          if (now - st.mtimeMs > STALE_TEMP_MS) unlinkSync(path);
        } else if (name.endsWith(SUFFIX)) {
          entries.push({ path, size: st.size, used: st.mtimeMs });
          total += st.size;
        }
      } catch { /* another process removed it */ }
    }
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.#maxBytes) break;
      try {
        unlinkSync(e.path);
        this.stats.evicted++;
      } catch { /* gone already */ }
      total -= e.size;
    }
  }
}
