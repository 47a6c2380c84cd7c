/**
 * An in-memory directory's whole content as plain data (msgpack-able: file bytes are
 * `Uint8Array`s, times bigints): what a snapshot carries for a preopen that lives in
 * memory (`WasiState.preopens[i].mem`), and what seeds one (`wasmig run --mem-dir`).
 * Inodes are listed once each, with directory entries naming them by number, so hard
 * links survive; the listing order is canonical (breadth first, names sorted), so the
 * same tree always encodes to the same bytes.
 * @module
 */

/** The most bytes of file content an in-memory directory may hold: 4 GiB (a typed array's practical limit). */
export const MAX_MEM_DIR_BYTES = 2 ** 32;
/** The bound an in-memory directory has when none is given: 16 MiB (a snapshot holds it beside the memory, within `--max-snapshot`'s 64 MiB of room beyond the memory cap). */
export const DEFAULT_MEM_DIR_BYTES = 16 * 1024 * 1024;
/** The most inodes an in-memory directory may hold (each costs a heap object). */
export const MAX_MEM_DIR_NODES = 1_000_000;

/** Times of an inode, in nanoseconds since the epoch (as WASI's `filestat` reports them). */
export interface NodeTimes {
  /** Last access. */
  atim: bigint;
  /** Last modification of the content. */
  mtim: bigint;
  /** Last change of the inode (content, links, times). */
  ctim: bigint;
}

/** One inode of an in-memory directory, as captured. */
export type MemNodeState =
  | (NodeTimes & {
      /** The inode's number (what `filestat.ino` says). */
      ino: number;
      /** A directory. */
      type: 'dir';
      /** Its entries, sorted by name: [name, inode number]. */
      entries: [string, number][];
    })
  | (NodeTimes & {
      /** The inode's number. */
      ino: number;
      /** A regular file. */
      type: 'file';
      /** The file's bytes (its size is their length). */
      data: Uint8Array;
    })
  | (NodeTimes & {
      /** The inode's number. */
      ino: number;
      /** A symbolic link. */
      type: 'symlink';
      /** The link's target, as created (relative; never followed out of the directory). */
      target: string;
    });

/** An in-memory directory's content: its bound and its inodes, the root directory first. */
export interface MemFsState {
  /** The most bytes of file content it may hold (ENOSPC beyond). */
  maxBytes: number;
  /** The number the next new inode gets (kept so a migrated program sees the numbers an unmoved one would). */
  nextIno: number;
  /** Every inode, each once: the root directory first, then breadth first, entries sorted; orphans last. */
  nodes: MemNodeState[];
  /** Files unlinked while open, which no entry names (their fds name them by inode), ascending; absent when none. */
  orphans?: number[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A file name as a directory entry may hold it. */
export function isEntryName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/**
 * Checks untrusted in-memory directory content and returns a clean copy (the file bytes
 * are shared, not copied). The tree must be one: every directory but the root named by
 * exactly one entry, every inode reachable from the root, the bytes within the bound.
 * Throws `fail(message)` naming the first bad field under `where`.
 */
export function validateMemFsState(x: unknown, where: string, fail: (what: string) => never): MemFsState {
  if (!isRecord(x)) fail(`${where} is not an object`);
  const maxBytes = x['maxBytes'];
  if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < 0 || maxBytes > MAX_MEM_DIR_BYTES) fail(`${where}.maxBytes is not an integer in [0, ${MAX_MEM_DIR_BYTES}]`);
  const nextIno = x['nextIno'];
  if (typeof nextIno !== 'number' || !Number.isSafeInteger(nextIno) || nextIno < 2) fail(`${where}.nextIno is not an integer from 2`);
  const nodes = x['nodes'];
  if (!Array.isArray(nodes) || nodes.length === 0) fail(`${where}.nodes is not a non-empty array`);
  if (nodes.length > MAX_MEM_DIR_NODES) fail(`${where}.nodes has ${nodes.length} inodes, more than ${MAX_MEM_DIR_NODES}`);
  const u64 = (v: unknown, what: string): bigint => {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) fail(`${what} is not a u64 bigint`);
    return v;
  };
  const byIno = new Map<number, MemNodeState>();
  let bytes = 0;
  const clean = nodes.map((n, j): MemNodeState => {
    const at = `${where}.nodes[${j}]`;
    if (!isRecord(n)) fail(`${at} is not an object`);
    const ino = n['ino'];
    if (typeof ino !== 'number' || !Number.isSafeInteger(ino) || ino < 1 || ino >= nextIno) fail(`${at}.ino is not an integer in [1, nextIno)`);
    if (byIno.has(ino)) fail(`${at}: inode ${ino} is listed twice`);
    const times = { atim: u64(n['atim'], `${at}.atim`), mtim: u64(n['mtim'], `${at}.mtim`), ctim: u64(n['ctim'], `${at}.ctim`) };
    let node: MemNodeState;
    switch (n['type']) {
      case 'dir': {
        const entries = n['entries'];
        if (!Array.isArray(entries)) fail(`${at}.entries is not an array`);
        const names = new Set<string>();
        node = {
          ino, type: 'dir', ...times,
          entries: entries.map((e, k): [string, number] => {
            if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number') fail(`${at}.entries[${k}] is not a [name, inode] pair`);
            if (!isEntryName(e[0])) fail(`${at}.entries[${k}]: ${JSON.stringify(e[0])} is not a file name`);
            if (names.has(e[0])) fail(`${at}.entries[${k}]: ${JSON.stringify(e[0])} appears twice`);
            names.add(e[0]);
            return [e[0], e[1]];
          }),
        };
        break;
      }
      case 'file': {
        const data = n['data'];
        if (!(data instanceof Uint8Array)) fail(`${at}.data is not bytes`);
        bytes += data.length;
        if (bytes > maxBytes) fail(`${where}: the files hold more than its bound of ${maxBytes} bytes`);
        node = { ino, type: 'file', ...times, data };
        break;
      }
      case 'symlink': {
        const target = n['target'];
        if (typeof target !== 'string' || target === '' || target.includes('\0') || target.startsWith('/')) fail(`${at}.target is not a relative link target`);
        node = { ino, type: 'symlink', ...times, target };
        break;
      }
      default:
        fail(`${at}.type ${typeof n['type'] === 'string' ? JSON.stringify(n['type']) : `(a ${typeof n['type']})`} is not dir, file or symlink`);
    }
    byIno.set(ino, node);
    return node;
  });
  let orphans: number[] | undefined;
  if (x['orphans'] !== undefined) {
    const o = x['orphans'];
    if (!Array.isArray(o)) fail(`${where}.orphans is not an array`);
    orphans = o.map((ino, j) => {
      if (typeof ino !== 'number' || byIno.get(ino)?.type !== 'file') fail(`${where}.orphans[${j}] is not a listed file's inode`);
      return ino as number;
    });
  }
  const root = clean[0] as MemNodeState;
  if (root.type !== 'dir') fail(`${where}.nodes[0] (the root) is not a directory`);
  // One tree: each directory reached once (no cycles, no second parent), every inode reached.
  const reached = new Set<number>([root.ino]);
  const queue: MemNodeState[] = [root];
  while (queue.length > 0) {
    const dir = queue.shift() as MemNodeState & { type: 'dir' };
    for (const [name, ino] of dir.entries) {
      const child = byIno.get(ino);
      if (child === undefined) fail(`${where}: entry ${JSON.stringify(name)} of inode ${dir.ino} names inode ${ino}, which is not listed`);
      if (child.type === 'dir') {
        if (reached.has(ino)) fail(`${where}: directory inode ${ino} has a second parent (entry ${JSON.stringify(name)} of inode ${dir.ino})`);
        queue.push(child);
      }
      reached.add(ino);
    }
  }
  for (const [j, ino] of (orphans ?? []).entries()) {
    if (reached.has(ino)) fail(`${where}.orphans[${j}]: inode ${ino} has a name, or is listed twice`);
    reached.add(ino);
  }
  if (reached.size !== clean.length) {
    const orphan = clean.find((n) => !reached.has(n.ino)) as MemNodeState;
    fail(`${where}: inode ${orphan.ino} is not reachable from the root`);
  }
  return { maxBytes, nextIno, nodes: clean, ...(orphans?.length ? { orphans } : {}) };
}

/** Total bytes of file content in `state` (each inode once, however many links name it). */
export function memFsBytes(state: MemFsState): number {
  let bytes = 0;
  for (const n of state.nodes) if (n.type === 'file') bytes += n.data.length;
  return bytes;
}

/** One entry of an in-memory directory, as `wasmig inspect` lists it. */
export interface MemFsListing {
  /** Path from the directory's root, '/'-separated (a hard-linked file appears under each of its names). */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  /** Bytes of a file; a symlink's target length; 0 for a directory. */
  size: number;
  /** A symlink's target. */
  target?: string;
  /** Last modification, ns since the epoch. */
  mtim: bigint;
}

/** Every entry of a (validated) in-memory directory, depth first, names sorted. */
export function listMemFs(state: MemFsState): MemFsListing[] {
  const byIno = new Map(state.nodes.map((n) => [n.ino, n]));
  const out: MemFsListing[] = [];
  const walk = (dir: MemNodeState & { type: 'dir' }, prefix: string): void => {
    for (const [name, ino] of [...dir.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const node = byIno.get(ino);
      if (node === undefined) continue;
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (node.type === 'file') out.push({ path, type: 'file', size: node.data.length, mtim: node.mtim });
      else if (node.type === 'symlink') out.push({ path, type: 'symlink', size: new TextEncoder().encode(node.target).length, target: node.target, mtim: node.mtim });
      else {
        out.push({ path, type: 'dir', size: 0, mtim: node.mtim });
        walk(node, path);
      }
    }
  };
  const root = state.nodes[0];
  if (root?.type === 'dir') walk(root, '');
  return out;
}
