/**
 * `--mem-dir GUEST[=HOSTDIR]`: a directory in memory for the program, empty or loaded
 * from a host folder, whose content is then part of the program's state (snapshots,
 * migrations) rather than of any machine's disk.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors/index.ts';
import { DEFAULT_MEM_DIR_BYTES, isEntryName, MAX_MEM_DIR_BYTES } from '../wasi/index.ts';
import type { MemDirOptions, MemFsState, MemNodeState } from '../wasi/index.ts';

/** The bound's text for messages: bytes, with MiB when large. */
function bound(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes} bytes (${(bytes / (1024 * 1024)).toFixed(1)} MiB)` : `${bytes} bytes`;
}

/**
 * Reads host folder `root` into an in-memory directory's content: directories, regular
 * files (hard links kept as such), relative symlinks. Sizes are added up from `lstat`
 * before any file is read, so a folder over `maxBytes` is refused without reading it.
 * @throws UsageError (prefixed with `what`) for a folder over the bound, an absolute
 *   symlink, a device or socket, or anything unreadable.
 */
export function loadMemDir(root: string, maxBytes: number, what: string): MemFsState {
  const bad = (why: string): never => { throw new UsageError(`${what}: ${why}`); };
  const stat = (p: string): BigIntStats => {
    try {
      return lstatSync(p, { bigint: true });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      return bad(`${p}: ${code === 'ENOENT' ? 'no such file or directory' : (cause as Error).message}`);
    }
  };
  const top = stat(root);
  if (!top.isDirectory()) bad(`${root} is not a directory`);
  // First pass: the tree's shape and the bytes it holds, nothing read yet.
  interface Pending { path: string; st: BigIntStats; ino: number; names: string[] }
  const byHostInode = new Map<string, number>();
  const order: Pending[] = [];
  let nextIno = 1;
  let bytes = 0;
  const visit = (path: string, st: BigIntStats): number => {
    const key = `${st.dev}:${st.ino}`;
    const known = byHostInode.get(key);
    if (known !== undefined && !st.isDirectory()) return known;
    const ino = nextIno++;
    byHostInode.set(key, ino);
    if (st.isFile()) {
      bytes += Number(st.size);
      if (bytes > maxBytes) bad(`its files come to more than the bound of ${bound(maxBytes)} (--mem-dir-max)`);
    } else if (st.isSymbolicLink()) {
      const target = readlinkSync(path, 'utf8');
      if (target.startsWith('/')) bad(`${path} is a symlink to an absolute path, which would name a host path`);
    } else if (!st.isDirectory()) {
      bad(`${path} is neither a file, a directory nor a symlink`);
    }
    order.push({ path, st, ino, names: [] });
    return ino;
  };
  visit(root, top);
  const entries = new Map<number, [string, number][]>();
  for (let i = 0; i < order.length; i++) {
    const node = order[i] as Pending;
    if (!node.st.isDirectory()) continue;
    let names: string[];
    try {
      names = readdirSync(node.path).sort();
    } catch (cause) {
      return bad(`${node.path}: ${(cause as Error).message}`);
    }
    const list: [string, number][] = [];
    for (const name of names) {
      if (!isEntryName(name)) bad(`${join(node.path, name)}: not a portable file name`);
      const child = join(node.path, name);
      list.push([name, visit(child, stat(child))]);
    }
    entries.set(node.ino, list);
    if (order.length > 1_000_000) bad('more than a million entries');
  }
  const nodes: MemNodeState[] = order.map(({ path, st, ino }) => {
    const times = { ino, atim: st.atimeNs, mtim: st.mtimeNs, ctim: st.ctimeNs };
    if (st.isDirectory()) return { ...times, type: 'dir', entries: entries.get(ino) ?? [] };
    if (st.isSymbolicLink()) return { ...times, type: 'symlink', target: readlinkSync(path, 'utf8') };
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileSync(path));
    } catch (cause) {
      return bad(`${path}: ${(cause as Error).message}`);
    }
    return { ...times, type: 'file', data };
  });
  // The bytes read may differ from the sizes seen (a file growing meanwhile): checked again.
  const read = nodes.reduce((n, f) => n + (f.type === 'file' ? f.data.length : 0), 0);
  if (read > maxBytes) bad(`its files come to more than the bound of ${bound(maxBytes)} (--mem-dir-max)`);
  return { maxBytes, nextIno, nodes };
}

/**
 * Parses `GUEST[=HOSTDIR]`: GUEST, the name the program sees (plain components, no `..`);
 * HOSTDIR, a folder to load (default: none, the directory starts empty).
 * @throws UsageError naming the argument
 */
export function parseMemDir(spec: string, maxBytes: number = DEFAULT_MEM_DIR_BYTES): MemDirOptions {
  const what = `--mem-dir ${JSON.stringify(spec)}`;
  const i = spec.indexOf('=');
  const guest = i >= 0 ? spec.slice(0, i) : spec;
  const host = i >= 0 ? spec.slice(i + 1) : undefined;
  if (guest === '' || host === '') throw new UsageError(`${what}: expected GUEST[=HOSTDIR]`);
  if (guest.includes('\0') || host?.includes('\0')) throw new UsageError(`${what}: a path cannot hold a NUL byte`);
  if (guest.split('/').includes('..')) throw new UsageError(`${what}: the guest name ${JSON.stringify(guest)} climbs out with '..'`);
  if (maxBytes > MAX_MEM_DIR_BYTES) throw new UsageError(`--mem-dir-max: at most ${MAX_MEM_DIR_BYTES} bytes`);
  return host === undefined ? { guest, maxBytes } : { guest, maxBytes, files: loadMemDir(host, maxBytes, what) };
}
