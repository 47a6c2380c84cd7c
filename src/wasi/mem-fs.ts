import type { FileSystem } from './file-system.ts';
import { LINUX_OPEN_FLAGS } from './file-system.ts';
import type { MemFsState, MemNodeState } from './mem-fs-state.ts';
import { DEFAULT_MEM_DIR_BYTES, isEntryName } from './mem-fs-state.ts';

/**
 * A directory tree held in memory, with the shape of the part of `node:fs` the WASI calls
 * use ({@link FileSystem}), so that a preopen may live here instead of on the host: the
 * calls, the sandbox and the fd table are the same code over either. Its whole content
 * is plain data ({@link MemFs.capture}), so it is part of a job's state: captured in
 * snapshots, restored bit-exact (times in nanoseconds, inode numbers), on Node and in a
 * browser alike.
 *
 * Paths are absolute within the tree (`/a/b`; the root is `/`, and `..` at the root stays
 * there): nothing here can name anything outside it. The WASI layer resolves guest paths
 * itself (paths.ts) before they get here; symlinks are followed here too, as a host file
 * system would for the calls that follow them.
 *
 * The file bytes are bounded (`maxBytes`): a write, truncate or allocate that would take
 * the total past the bound fails with ENOSPC and changes nothing. Open descriptors are
 * local, as a host's are (never captured): the WASI fd table reopens files by path.
 */

/** Symlink expansions allowed in one lookup (Linux's limit). */
const MAX_LINKS = 40;

interface Base {
  ino: number;
  /** Directory entries naming it. */
  nlink: number;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}
interface MemFile extends Base {
  type: 'file';
  /** Capacity beyond `size` is spare room, zeros. */
  data: Uint8Array;
  size: number;
  /** Open descriptors: an unlinked file's bytes are freed when the last one closes. */
  opens: number;
  /** Stamped from the tree's counter at each change of the bytes (local: never captured). */
  version: number;
}
interface MemDir extends Base {
  type: 'dir';
  entries: Map<string, MemNode>;
  parent: MemDir | null;
}
interface MemLink extends Base {
  type: 'symlink';
  target: string;
}
type MemNode = MemFile | MemDir | MemLink;

/** What a lookup found: the directory holding the last component, its name (null: reached as `..` or the root), the node. */
interface Found {
  parent: MemDir;
  name: string | null;
  node: MemNode | undefined;
  /** Components of the found location's path from the root. */
  path: string[];
}

/** A node's status, shaped as the `fs.BigIntStats` fields the WASI calls read. */
export interface MemStats {
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  size: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isFIFO(): boolean;
}

/** A failure as Node reports one (`err.code`), which the WASI calls map to an errno. */
function fsError(code: string, syscall: string, path?: string): Error {
  return Object.assign(new Error(`${code}: ${syscall}${path === undefined ? '' : ` '${path}'`}`), { code, syscall });
}

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function toNs(t: unknown): bigint {
  if (typeof t === 'bigint') return BigInt.asUintN(64, t);
  if (typeof t === 'number') return BigInt(Math.round(t * 1e9));
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  throw fsError('EINVAL', 'utimes');
}

const no = (): boolean => false;

/** Options of a {@link MemFs}. */
export interface MemFsOptions {
  /** The device number `filestat.dev` reports (tells one directory's inodes from another's). */
  dev?: bigint;
  /** The wall clock, ns since the epoch, for the times of changes. */
  now?: () => bigint;
  /** Most bytes of file content (default {@link DEFAULT_MEM_DIR_BYTES}). */
  maxBytes?: number;
}

/** An in-memory directory tree with `node:fs`'s shape (see the file's comment). */
export class MemFs {
  /** Flag values `openSync` understands (Linux's numbers). */
  readonly constants = LINUX_OPEN_FLAGS;
  /** Times are taken and given in nanoseconds (bigint), exactly. */
  readonly nanosecondTimes = true;
  /** Most bytes of file content. */
  readonly maxBytes: number;
  readonly #dev: bigint;
  readonly #now: () => bigint;
  #root: MemDir;
  #nextIno = 2;
  #used = 0;
  #nextFd = 3;
  /** The last content version stamped (see {@link MemFs.files}). */
  #version = 0;
  readonly #open = new Map<number, { node: MemNode; read: boolean; write: boolean }>();
  /** Files unlinked while open that came with a restored state, until their fds reopen them ({@link MemFs.dropUnopened}). */
  readonly #orphans = new Set<MemFile>();

  constructor(options: MemFsOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MEM_DIR_BYTES;
    this.#dev = options.dev ?? 0n;
    this.#now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const t = this.#now();
    this.#root = { type: 'dir', ino: 1, nlink: 1, atim: t, mtim: t, ctim: t, entries: new Map(), parent: null };
  }

  /** A tree rebuilt from captured (validated) content. */
  static fromState(state: MemFsState, options: Omit<MemFsOptions, 'maxBytes'> = {}): MemFs {
    const fs = new MemFs({ ...options, maxBytes: state.maxBytes });
    const nodes = new Map<number, MemNode>();
    for (const s of state.nodes) {
      const base = { ino: s.ino, nlink: 0, atim: s.atim, mtim: s.mtim, ctim: s.ctim };
      if (s.type === 'file') {
        nodes.set(s.ino, { ...base, type: 'file', data: s.data.slice(), size: s.data.length, opens: 0, version: ++fs.#version });
        fs.#used += s.data.length;
      } else if (s.type === 'dir') nodes.set(s.ino, { ...base, type: 'dir', entries: new Map(), parent: null });
      else nodes.set(s.ino, { ...base, type: 'symlink', target: s.target });
    }
    for (const s of state.nodes) {
      if (s.type !== 'dir') continue;
      const dir = nodes.get(s.ino) as MemDir;
      for (const [name, ino] of s.entries) {
        const child = nodes.get(ino) as MemNode;
        dir.entries.set(name, child);
        child.nlink++;
        if (child.type === 'dir') child.parent = dir;
      }
    }
    fs.#root = nodes.get((state.nodes[0] as MemNodeState).ino) as MemDir;
    fs.#root.nlink = 1;
    for (const ino of state.orphans ?? []) fs.#orphans.add(nodes.get(ino) as MemFile);
    fs.#nextIno = state.nextIno;
    return fs;
  }

  /** This tree as {@link FileSystem}, for a preopen. */
  get asFileSystem(): FileSystem {
    return this as unknown as FileSystem;
  }

  /** Bytes of file content held now (unlinked files still open included). */
  get usedBytes(): number {
    return this.#used;
  }

  /**
   * The whole content as plain data (copies: the tree may change after). Inodes in
   * canonical order. `omit(ino, version)` true leaves a file's bytes out (empty): for a
   * receiver that holds them already (a live migration's pre-copied files).
   */
  capture(omit?: (ino: number, version: number) => boolean): MemFsState {
    const nodes: MemNodeState[] = [];
    const order: MemNode[] = [this.#root];
    const seen = new Set<MemNode>(order);
    for (let i = 0; i < order.length; i++) {
      const n = order[i] as MemNode;
      const times = { ino: n.ino, atim: n.atim, mtim: n.mtim, ctim: n.ctim };
      if (n.type === 'file') nodes.push({ ...times, type: 'file', data: omit?.(n.ino, n.version) === true ? new Uint8Array(0) : n.data.slice(0, n.size) });
      else if (n.type === 'symlink') nodes.push({ ...times, type: 'symlink', target: n.target });
      else {
        const names = [...n.entries.keys()].sort();
        nodes.push({ ...times, type: 'dir', entries: names.map((name) => [name, (n.entries.get(name) as MemNode).ino]) });
        for (const name of names) {
          const child = n.entries.get(name) as MemNode;
          if (!seen.has(child)) {
            seen.add(child);
            order.push(child);
          }
        }
      }
    }
    // Files unlinked while open: no name reaches them, their fds do (listed last, by inode).
    const orphans = this.#openOrphans(seen);
    for (const n of orphans) nodes.push({ ino: n.ino, atim: n.atim, mtim: n.mtim, ctim: n.ctim, type: 'file', data: omit?.(n.ino, n.version) === true ? new Uint8Array(0) : n.data.slice(0, n.size) });
    return { maxBytes: this.maxBytes, nextIno: this.#nextIno, nodes, ...(orphans.length ? { orphans: orphans.map((n) => n.ino) } : {}) };
  }

  /** Open files no name reaches (unlinked while open), by inode. */
  #openOrphans(reached: Set<MemNode>): MemFile[] {
    const out = new Set<MemFile>();
    for (const h of this.#open.values()) if (h.node.type === 'file' && !reached.has(h.node)) out.add(h.node);
    return [...out].sort((a, b) => a.ino - b.ino);
  }

  /**
   * Opens the file with inode `ino`, wherever it is: under any name, or unlinked while
   * open (a restored fd of an in-memory file is reopened so, renamed or unlinked since).
   */
  openInode(ino: number, flags: number): number {
    let node: MemNode | undefined = [...this.#orphans].find((n) => n.ino === ino);
    if (node === undefined) {
      for (const h of this.#open.values()) if (h.node.ino === ino) node = h.node;
    }
    if (node === undefined) {
      const queue: MemDir[] = [this.#root];
      for (let i = 0; i < queue.length && node === undefined; i++) {
        for (const child of (queue[i] as MemDir).entries.values()) {
          if (child.ino === ino) node = child;
          else if (child.type === 'dir') queue.push(child);
        }
      }
    }
    if (node === undefined) throw fsError('ENOENT', 'open', `inode ${ino}`);
    if (node.type !== 'file') throw fsError('EINVAL', 'open', `inode ${ino}`);
    node.opens++;
    const fd = this.#nextFd++;
    const access = flags & 3;
    this.#open.set(fd, { node, read: access !== LINUX_OPEN_FLAGS.O_WRONLY, write: access !== LINUX_OPEN_FLAGS.O_RDONLY });
    return fd;
  }

  /** Frees the restored unlinked files that no fd reopened (nothing can reach them any more). */
  dropUnopened(): void {
    for (const file of this.#orphans) {
      if (file.opens === 0) {
        this.#orphans.delete(file);
        this.#release(file);
      }
    }
  }

  /**
   * Every file in the tree with its content version (which changes with each change of
   * its bytes) and its bytes (a view, valid until the tree changes): what a pre-copy
   * sends while the program runs, so that its pause sends only what changed since.
   */
  files(): { ino: number; version: number; data: Uint8Array }[] {
    const out: { ino: number; version: number; data: Uint8Array }[] = [];
    const seen = new Set<MemNode>();
    const walk = (dir: MemDir): void => {
      for (const child of dir.entries.values()) {
        if (seen.has(child)) continue;
        seen.add(child);
        if (child.type === 'file') out.push({ ino: child.ino, version: child.version, data: child.data.subarray(0, child.size) });
        else if (child.type === 'dir') walk(child);
      }
    };
    walk(this.#root);
    for (const n of this.#openOrphans(seen)) out.push({ ino: n.ino, version: n.version, data: n.data.subarray(0, n.size) });
    return out;
  }

  #find(p: string, followLast: boolean, syscall: string): Found {
    const dirs: MemDir[] = [this.#root];
    const names: string[] = [];
    const pending = components(p).reverse();
    let links = 0;
    let found: Found = { parent: this.#root, name: null, node: this.#root, path: [] };
    while (pending.length > 0) {
      const c = pending.pop() as string;
      const dir = dirs[dirs.length - 1] as MemDir;
      if (c === '..') {
        if (dirs.length > 1) {
          dirs.pop();
          names.pop();
        }
        const top = dirs[dirs.length - 1] as MemDir;
        found = { parent: top, name: null, node: top, path: [...names] };
        continue;
      }
      const node = dir.entries.get(c);
      const isLast = pending.length === 0;
      if (node === undefined) {
        if (!isLast) throw fsError('ENOENT', syscall, p);
        return { parent: dir, name: c, node: undefined, path: [...names, c] };
      }
      if (node.type === 'symlink' && (!isLast || followLast)) {
        if (++links > MAX_LINKS) throw fsError('ELOOP', syscall, p);
        if (node.target.startsWith('/')) {
          dirs.length = 1;
          names.length = 0;
        }
        pending.push(...components(node.target).reverse());
        const top = dirs[dirs.length - 1] as MemDir;
        found = { parent: top, name: null, node: top, path: [...names] };
        continue;
      }
      if (!isLast && node.type !== 'dir') throw fsError('ENOTDIR', syscall, p);
      found = { parent: dir, name: c, node, path: [...names, c] };
      if (node.type === 'dir') {
        dirs.push(node);
        names.push(c);
      }
    }
    return found;
  }

  #existing(p: string, follow: boolean, syscall: string): MemNode {
    const { node } = this.#find(p, follow, syscall);
    if (node === undefined) throw fsError('ENOENT', syscall, p);
    return node;
  }

  #handle(fd: number, syscall: string): { node: MemNode; read: boolean; write: boolean } {
    const h = this.#open.get(fd);
    if (h === undefined) throw fsError('EBADF', syscall);
    return h;
  }

  #touch(node: MemNode, content: boolean): void {
    const t = this.#now();
    if (content) node.mtim = t;
    node.ctim = t;
  }

  #stats(node: MemNode): MemStats {
    const nlink = node.type === 'dir' ? 2 + [...node.entries.values()].filter((c) => c.type === 'dir').length : node.nlink;
    const size = node.type === 'file' ? node.size : node.type === 'symlink' ? new TextEncoder().encode(node.target).length : 0;
    return {
      dev: this.#dev, ino: BigInt(node.ino), nlink: BigInt(nlink), size: BigInt(size),
      atimeNs: node.atim, mtimeNs: node.mtim, ctimeNs: node.ctim,
      isFile: () => node.type === 'file', isDirectory: () => node.type === 'dir', isSymbolicLink: () => node.type === 'symlink',
      isCharacterDevice: no, isBlockDevice: no, isSocket: no, isFIFO: no,
    };
  }

  /** Resizes a file's content to `size` bytes (new bytes zero), within the bound. */
  #resize(file: MemFile, size: number, syscall: string): void {
    if (size > file.size && this.#used + (size - file.size) > this.maxBytes) throw fsError('ENOSPC', syscall);
    if (size > file.data.length) {
      const grown = new Uint8Array(Math.min(Math.max(size, file.data.length * 2, 256), Math.max(size, this.maxBytes)));
      grown.set(file.data.subarray(0, file.size));
      file.data = grown;
    } else if (size < file.size) {
      file.data.fill(0, size, file.size);
    }
    this.#used += size - file.size;
    file.size = size;
    file.version = ++this.#version;
  }

  #newIno(): number {
    return this.#nextIno++;
  }

  #unlinked(node: MemNode): void {
    node.nlink--;
    if (node.type === 'file') {
      node.ctim = this.#now();
      this.#release(node);
    }
  }

  #release(file: MemFile): void {
    if (file.nlink > 0 || file.opens > 0) return;
    this.#orphans.delete(file);
    this.#used -= file.size;
    file.data = new Uint8Array(0);
    file.size = 0;
  }

  openSync(p: string, flags: number, _mode?: number): number {
    const c = LINUX_OPEN_FLAGS;
    const found = this.#find(p, (flags & c.O_NOFOLLOW) === 0, 'open');
    let node = found.node;
    const access = flags & 3;
    if (node === undefined) {
      if (!(flags & c.O_CREAT)) throw fsError('ENOENT', 'open', p);
      const t = this.#now();
      node = { type: 'file', ino: this.#newIno(), nlink: 1, atim: t, mtim: t, ctim: t, data: new Uint8Array(0), size: 0, opens: 0, version: ++this.#version };
      found.parent.entries.set(found.name as string, node);
      this.#touch(found.parent, true);
    } else {
      if (flags & c.O_CREAT && flags & c.O_EXCL) throw fsError('EEXIST', 'open', p);
      if (node.type === 'symlink') throw fsError('ELOOP', 'open', p);
      if (node.type === 'dir' && access !== c.O_RDONLY) throw fsError('EISDIR', 'open', p);
      if (flags & c.O_DIRECTORY && node.type !== 'dir') throw fsError('ENOTDIR', 'open', p);
      if (flags & c.O_TRUNC && node.type === 'file' && access !== c.O_RDONLY && node.size > 0) {
        this.#resize(node, 0, 'open');
        this.#touch(node, true);
      }
    }
    if (node.type === 'file') node.opens++;
    const fd = this.#nextFd++;
    this.#open.set(fd, { node, read: access !== c.O_WRONLY, write: access !== c.O_RDONLY });
    return fd;
  }

  closeSync(fd: number): void {
    const h = this.#handle(fd, 'close');
    this.#open.delete(fd);
    if (h.node.type === 'file') {
      h.node.opens--;
      this.#release(h.node);
    }
  }

  fstatSync(fd: number): MemStats {
    return this.#stats(this.#handle(fd, 'fstat').node);
  }

  statSync(p: string): MemStats {
    return this.#stats(this.#existing(p, true, 'stat'));
  }

  lstatSync(p: string): MemStats {
    return this.#stats(this.#existing(p, false, 'lstat'));
  }

  readvSync(fd: number, views: Uint8Array[], position: number): number {
    const h = this.#handle(fd, 'read');
    if (h.node.type === 'dir') throw fsError('EISDIR', 'read');
    if (!h.read || h.node.type !== 'file') throw fsError('EBADF', 'read');
    const file = h.node;
    let at = position;
    for (const view of views) {
      if (at >= file.size) break;
      const n = Math.min(view.length, file.size - at);
      view.set(file.data.subarray(at, at + n));
      at += n;
    }
    return at - position;
  }

  writevSync(fd: number, views: Uint8Array[], position: number): number {
    const h = this.#handle(fd, 'write');
    if (!h.write || h.node.type !== 'file') throw fsError('EBADF', 'write');
    const file = h.node;
    const total = views.reduce((n, v) => n + v.length, 0);
    if (total === 0) return 0;
    const end = position + total;
    if (end > file.size) this.#resize(file, end, 'write');
    let at = position;
    for (const view of views) {
      file.data.set(view, at);
      at += view.length;
    }
    file.version = ++this.#version;
    this.#touch(file, true);
    return total;
  }

  ftruncateSync(fd: number, len = 0): void {
    const h = this.#handle(fd, 'ftruncate');
    if (!h.write || h.node.type !== 'file') throw fsError('EINVAL', 'ftruncate');
    this.#resize(h.node, len, 'ftruncate');
    this.#touch(h.node, true);
  }

  futimesSync(fd: number, atime: unknown, mtime: unknown): void {
    this.#setTimes(this.#handle(fd, 'futimes').node, atime, mtime);
  }

  utimesSync(p: string, atime: unknown, mtime: unknown): void {
    this.#setTimes(this.#existing(p, true, 'utimes'), atime, mtime);
  }

  lutimesSync(p: string, atime: unknown, mtime: unknown): void {
    this.#setTimes(this.#existing(p, false, 'lutimes'), atime, mtime);
  }

  #setTimes(node: MemNode, atime: unknown, mtime: unknown): void {
    node.atim = toNs(atime);
    node.mtim = toNs(mtime);
    node.ctim = this.#now();
  }

  fsyncSync(fd: number): void {
    this.#handle(fd, 'fsync');
  }

  fdatasyncSync(fd: number): void {
    this.#handle(fd, 'fdatasync');
  }

  readdirSync(p: string): string[] {
    const node = this.#existing(p, true, 'scandir');
    if (node.type !== 'dir') throw fsError('ENOTDIR', 'scandir', p);
    return [...node.entries.keys()];
  }

  mkdirSync(p: string): void {
    const found = this.#find(p, false, 'mkdir');
    if (found.node !== undefined || found.name === null) throw fsError('EEXIST', 'mkdir', p);
    const t = this.#now();
    found.parent.entries.set(found.name, { type: 'dir', ino: this.#newIno(), nlink: 1, atim: t, mtim: t, ctim: t, entries: new Map(), parent: found.parent });
    this.#touch(found.parent, true);
  }

  rmdirSync(p: string): void {
    const found = this.#find(p, false, 'rmdir');
    const node = found.node;
    if (node === undefined) throw fsError('ENOENT', 'rmdir', p);
    if (node.type !== 'dir') throw fsError('ENOTDIR', 'rmdir', p);
    if (found.name === null) throw fsError('EBUSY', 'rmdir', p);
    if (node.entries.size > 0) throw fsError('ENOTEMPTY', 'rmdir', p);
    found.parent.entries.delete(found.name);
    node.nlink--;
    this.#touch(found.parent, true);
  }

  unlinkSync(p: string): void {
    const found = this.#find(p, false, 'unlink');
    const node = found.node;
    if (node === undefined) throw fsError('ENOENT', 'unlink', p);
    if (node.type === 'dir' || found.name === null) throw fsError('EISDIR', 'unlink', p);
    found.parent.entries.delete(found.name);
    this.#touch(found.parent, true);
    this.#unlinked(node);
  }

  renameSync(from: string, to: string): void {
    const a = this.#find(from, false, 'rename');
    if (a.node === undefined) throw fsError('ENOENT', 'rename', from);
    const b = this.#find(to, false, 'rename');
    if (a.name === null || b.name === null) throw fsError('EBUSY', 'rename', from);
    const node = a.node;
    if (node === b.node) return;
    // Onto a directory that holds the source (its parent, say): Linux's check comes first.
    if (b.node?.type === 'dir') for (let d: MemDir | null = a.parent; d !== null; d = d.parent) if (d === b.node) throw fsError('ENOTEMPTY', 'rename', to);
    if (node.type === 'dir') {
      for (let d: MemDir | null = b.parent; d !== null; d = d.parent) if (d === node) throw fsError('EINVAL', 'rename', from);
      if (b.node !== undefined && b.node.type !== 'dir') throw fsError('ENOTDIR', 'rename', to);
      if (b.node?.type === 'dir' && b.node.entries.size > 0) throw fsError('ENOTEMPTY', 'rename', to);
    } else if (b.node?.type === 'dir') throw fsError('EISDIR', 'rename', to);
    if (b.node !== undefined) {
      b.parent.entries.delete(b.name);
      this.#unlinked(b.node);
    }
    a.parent.entries.delete(a.name);
    b.parent.entries.set(b.name, node);
    if (node.type === 'dir') node.parent = b.parent;
    this.#touch(a.parent, true);
    this.#touch(b.parent, true);
    this.#touch(node, false);
  }

  linkSync(existing: string, p: string): void {
    const node = this.#existing(existing, false, 'link');
    if (node.type === 'dir') throw fsError('EPERM', 'link', existing);
    const found = this.#find(p, false, 'link');
    if (found.node !== undefined || found.name === null) throw fsError('EEXIST', 'link', p);
    found.parent.entries.set(found.name, node);
    node.nlink++;
    this.#touch(node, false);
    this.#touch(found.parent, true);
  }

  symlinkSync(target: string, p: string): void {
    if (target === '') throw fsError('ENOENT', 'symlink', p);
    const found = this.#find(p, false, 'symlink');
    if (found.node !== undefined || found.name === null) throw fsError('EEXIST', 'symlink', p);
    if (!isEntryName(found.name)) throw fsError('EINVAL', 'symlink', p);
    const t = this.#now();
    found.parent.entries.set(found.name, { type: 'symlink', ino: this.#newIno(), nlink: 1, atim: t, mtim: t, ctim: t, target });
    this.#touch(found.parent, true);
  }

  readlinkSync(p: string, options?: unknown): string | Uint8Array {
    const node = this.#existing(p, false, 'readlink');
    if (node.type !== 'symlink') throw fsError('EINVAL', 'readlink', p);
    const asBytes = typeof options === 'object' && options !== null && (options as { encoding?: unknown }).encoding === 'buffer';
    return asBytes ? new TextEncoder().encode(node.target) : node.target;
  }

  realpathSync(p: string): string {
    const found = this.#find(p, true, 'realpath');
    if (found.node === undefined) throw fsError('ENOENT', 'realpath', p);
    return `/${found.path.join('/')}`;
  }
}
