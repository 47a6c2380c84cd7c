/**
 * The sandbox: every way out of a preopen is refused with ENOTCAPABLE (76), the errno
 * node:wasi (uvwasi) gives; ways that stay inside keep working.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno, OFlags, RIGHTS_NEED_WRITE } from '../../src/wasi/abi.ts';
import type { Guest } from './helpers/guest.ts';
import { makeGuest, makeRoot, PREOPEN_FD, RESULT } from './helpers/guest.ts';

const ALL = (1n << 30n) - 1n;

/** ROOT/outside.txt, ROOT/outdir/secret; ROOT/box is the preopen with links in and out. */
function sandboxGuest(): { g: Guest; top: string } {
  const top = makeRoot();
  const box = path.join(top, 'box');
  fs.writeFileSync(path.join(top, 'outside.txt'), 'SECRET');
  fs.mkdirSync(path.join(top, 'outdir'));
  fs.writeFileSync(path.join(top, 'outdir', 'secret'), 'SECRET');
  fs.mkdirSync(box);
  fs.writeFileSync(path.join(box, 'inside.txt'), 'inside');
  fs.mkdirSync(path.join(box, 'sub'));
  const links: [string, string][] = [
    ['link_in', 'inside.txt'],
    ['link_out', '../outside.txt'],
    ['link_abs', '/etc/passwd'],
    ['link_up', '..'],
    ['link_outdir', '../outdir'],
    ['sub/link_rel_in', '../inside.txt'],
    ['sub/deep', '../../outside.txt'],
    ['loop1', 'loop2'],
    ['loop2', 'loop1'],
    ['link_abs_in', path.join(box, 'inside.txt')],
    ['dangling_out', '../newfile'],
    ['link_self', '.'],
  ];
  for (const [p, target] of links) fs.symlinkSync(target, path.join(box, p));
  return { g: makeGuest({}, box), top };
}

function openErrno(g: Guest, p: string, oflags = 0, follow = true, dirFd = PREOPEN_FD): number {
  const [ptr, len] = g.str(p);
  // Asking for write rights on a directory is EISDIR, as open(2) with O_RDWR.
  const base = oflags & OFlags.DIRECTORY ? ALL & ~RIGHTS_NEED_WRITE : ALL;
  return g.call('path_open', dirFd, follow ? 1 : 0, ptr, len, oflags, base, ALL, 0, RESULT);
}

function readAll(g: Guest, p: string): string {
  assert.is(openErrno(g, p), 0, `open ${p}`);
  const fd = g.u32(RESULT);
  assert.is(g.call('fd_read', fd, g.iovec(6000, 64), 1, RESULT), 0);
  const text = g.text(6000, g.u32(RESULT));
  g.call('fd_close', fd);
  return text;
}

const escapes: [string, string][] = [
  ['.. above the root', '../outside.txt'],
  ['.. after a subdirectory', 'sub/../../outside.txt'],
  ['absolute path', '/etc/passwd'],
  ['absolute path that exists under the root too', '/inside.txt'],
  ['relative symlink out', 'link_out'],
  ['absolute symlink out', 'link_abs'],
  ['symlink to .. as a middle component', 'link_up/outside.txt'],
  ['symlink to a directory outside', 'link_outdir/secret'],
  ['symlink in a subdirectory climbing out', 'sub/deep'],
  ['.. through a symlink to .', 'link_self/../outside.txt'],
];

for (const [name, p] of escapes) {
  test(`escape refused: ${name} (${p})`, () => {
    const { g, top } = sandboxGuest();
    try {
      assert.is(openErrno(g, p), Errno.NOTCAPABLE);
      assert.is(g.call('path_filestat_get', PREOPEN_FD, 1, ...g.str(p), RESULT), Errno.NOTCAPABLE);
    } finally {
      g.dispose();
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
}

test('ways that stay inside work: links in, .. inside, absolute link back into the root', () => {
  const { g, top } = sandboxGuest();
  try {
    assert.is(readAll(g, 'inside.txt'), 'inside');
    assert.is(readAll(g, 'link_in'), 'inside');
    assert.is(readAll(g, 'sub/link_rel_in'), 'inside');
    assert.is(readAll(g, 'sub/../inside.txt'), 'inside');
    assert.is(readAll(g, './sub/./../inside.txt'), 'inside');
    assert.is(readAll(g, 'link_abs_in'), 'inside');
    assert.is(readAll(g, 'link_self/inside.txt'), 'inside');
    // Not following the last component: the link itself is inside, so it can be examined.
    assert.is(g.call('path_filestat_get', PREOPEN_FD, 0, ...g.str('link_out'), RESULT), 0);
    assert.is(g.call('path_readlink', PREOPEN_FD, ...g.str('link_out'), 7000, 64, RESULT), 0);
    assert.is(g.text(7000, g.u32(RESULT)), '../outside.txt');
  } finally {
    g.dispose();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('symlink loops are ELOOP; O_NOFOLLOW on a link is ELOOP', () => {
  const { g, top } = sandboxGuest();
  try {
    assert.is(openErrno(g, 'loop1'), Errno.LOOP);
    assert.is(openErrno(g, 'link_in', 0, false), Errno.LOOP);
  } finally {
    g.dispose();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('creating through a dangling symlink that points outside is refused', () => {
  const { g, top } = sandboxGuest();
  try {
    assert.is(openErrno(g, 'dangling_out', OFlags.CREAT), Errno.NOTCAPABLE);
    assert.not.ok(fs.existsSync(path.join(top, 'newfile')));
    assert.is(openErrno(g, 'dangling_out', OFlags.CREAT | OFlags.EXCL), Errno.EXIST);
  } finally {
    g.dispose();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('mutating calls cannot reach outside either', () => {
  const { g, top } = sandboxGuest();
  try {
    const P = PREOPEN_FD;
    assert.is(g.call('path_create_directory', P, ...g.str('../escaped')), Errno.NOTCAPABLE);
    assert.is(g.call('path_create_directory', P, ...g.str('link_up/escaped')), Errno.NOTCAPABLE);
    assert.is(g.call('path_rename', P, ...g.str('inside.txt'), P, ...g.str('../moved')), Errno.NOTCAPABLE);
    assert.is(g.call('path_rename', P, ...g.str('../outside.txt'), P, ...g.str('stolen')), Errno.NOTCAPABLE);
    assert.is(g.call('path_link', P, 0, ...g.str('inside.txt'), P, ...g.str('../linked')), Errno.NOTCAPABLE);
    assert.is(g.call('path_link', P, 1, ...g.str('link_out'), P, ...g.str('hardlink')), Errno.NOTCAPABLE);
    assert.is(g.call('path_unlink_file', P, ...g.str('../outside.txt')), Errno.NOTCAPABLE);
    assert.is(g.call('path_unlink_file', P, ...g.str('link_outdir/secret')), Errno.NOTCAPABLE);
    assert.is(g.call('path_remove_directory', P, ...g.str('../outdir')), Errno.NOTCAPABLE);
    assert.is(g.call('path_symlink', ...g.str('/etc/passwd'), P, ...g.str('made_abs')), Errno.NOTCAPABLE);
    assert.is(g.call('path_filestat_set_times', P, 1, ...g.str('link_out'), 0n, 0n, 4), Errno.NOTCAPABLE);
    // A relative link that climbs out may be created, but never followed.
    assert.is(g.call('path_symlink', ...g.str('../outside.txt'), P, ...g.str('made_out')), 0);
    assert.is(openErrno(g, 'made_out'), Errno.NOTCAPABLE);
    // Removing or renaming the preopen root itself is refused.
    assert.is(g.call('path_rename', P, ...g.str('sub/..'), P, ...g.str('x')), Errno.BUSY);
    assert.ok(fs.existsSync(path.join(top, 'outside.txt')));
    assert.ok(fs.existsSync(path.join(top, 'outdir', 'secret')));
    assert.not.ok(fs.existsSync(path.join(top, 'escaped')));
    assert.not.ok(fs.existsSync(path.join(top, 'moved')));
    assert.not.ok(fs.existsSync(path.join(top, 'linked')));
  } finally {
    g.dispose();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('a directory fd below the root: .. reaches the root, not past it', () => {
  const { g, top } = sandboxGuest();
  try {
    assert.is(openErrno(g, 'sub', OFlags.DIRECTORY), 0);
    const sub = g.u32(RESULT);
    assert.is(openErrno(g, '../inside.txt', 0, true, sub), 0);
    assert.is(openErrno(g, '../../outside.txt', 0, true, sub), Errno.NOTCAPABLE);
    // ".." of the preopen root is listed with the root's own inode: nothing outside leaks.
    assert.is(g.call('fd_readdir', PREOPEN_FD, 8000, 48, 0n, RESULT), 0);
    assert.is(g.u64(8000 + 8), g.u64(8000 + 24 + 1 + 8));
  } finally {
    g.dispose();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test.run();
