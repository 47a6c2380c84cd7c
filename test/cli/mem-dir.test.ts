/**
 * `--mem-dir GUEST[=HOSTDIR]`: a host folder loaded into memory (directories, files,
 * hard links, relative symlinks; refused in one line over the bound, with an absolute
 * symlink, or missing), and through the CLI: `wasmig run --mem-dir /data=DIR` pauses
 * into a snapshot, `wasmig inspect` lists the files it carries, and `wasmig resume`
 * finishes with no directory given, printing what an uninterrupted run prints; the
 * host folder is never written.
 */
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/errors/index.ts';
import { loadMemDir, parseMemDir } from '../../src/cli/mem-dir.ts';
import { listMemFs } from '../../src/wasi/index.ts';
import { wasmig } from '../helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-mem-dir-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'seed.txt'), 'planted before the start\n');
  writeFileSync(join(dir, 'sub', 'b.bin'), new Uint8Array([0, 1, 2, 255]));
  linkSync(join(dir, 'seed.txt'), join(dir, 'sub', 'hard'));
  symlinkSync('../seed.txt', join(dir, 'sub', 'soft'));
  return dir;
}

test('a host folder loads with its tree, hard links and relative symlinks', () => {
  const dir = folder('tree');
  const state = loadMemDir(dir, 1000, 'test');
  assert.equal(listMemFs(state).map((e) => `${e.path} ${e.type} ${e.size}${e.target ? ` -> ${e.target}` : ''}`), [
    'seed.txt file 25', 'sub dir 0', 'sub/b.bin file 4', 'sub/hard file 25', 'sub/soft symlink 11 -> ../seed.txt',
  ]);
  const seedIno = (state.nodes[0] as { entries: [string, number][] }).entries.find(([n]) => n === 'seed.txt')![1];
  const sub = state.nodes.find((n) => n.type === 'dir' && n.ino !== state.nodes[0]!.ino) as { entries: [string, number][] };
  assert.is(sub.entries.find(([n]) => n === 'hard')![1], seedIno, 'a hard link stays one inode');
  assert.is(state.nodes.filter((n) => n.type === 'file').length, 2, 'its bytes are held once');
});

test('bad folders are refused in one line', () => {
  const dir = folder('bad');
  const oneLine = (re: RegExp) => (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => parseMemDir(`/data=${dir}`, 20), oneLine(/--mem-dir "\/data=.*": its files come to more than the bound of 20 bytes \(--mem-dir-max\)/));
  assert.throws(() => parseMemDir(`/data=${join(work, 'nothing')}`), oneLine(/no such file or directory/));
  assert.throws(() => parseMemDir(`/data=${join(dir, 'seed.txt')}`), oneLine(/is not a directory/));
  assert.throws(() => parseMemDir('../up'), oneLine(/climbs out with '\.\.'/));
  assert.throws(() => parseMemDir('=x'), oneLine(/expected GUEST\[=HOSTDIR\]/));
  symlinkSync('/etc/passwd', join(dir, 'abs'));
  assert.throws(() => parseMemDir(`/data=${dir}`), oneLine(/symlink to an absolute path/));
  assert.equal(parseMemDir('/empty'), { guest: '/empty', maxBytes: 16 * 1024 * 1024 });
});

test('wasmig run --mem-dir pauses into a snapshot that inspect lists and resume finishes anywhere', () => {
  const dir = folder('cli');
  const before = readdirSync(dir).sort();
  const args = ['notes.wasm', 'lines=30', 'work=3000'];
  const prog = 'test/programs/notes.wasm';
  const whole = wasmig(['run', '--mem-dir', `/data=${dir}`, prog, ...args.slice(1)]);
  assert.is(whole.status, 0, whole.stderr);
  assert.match(whole.stdout, /^seed seed\.txt 25 bytes/m);
  assert.match(whole.stdout, /read back 741 bytes/);
  const snap = join(work, 'notes.snap');
  const first = wasmig(['run', '--mem-dir', `/data=${dir}`, '--pause-after', '2000000', '--snapshot', snap, prog, ...args.slice(1)]);
  assert.is(first.status, 0, first.stderr);
  const shown = wasmig(['inspect', snap]);
  assert.is(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /in-memory directory \/data: \d+ files?, .* of its 16\.0 MiB/);
  assert.match(shown.stdout, /^ {2}file seed\.txt 25 B$/m);
  assert.match(shown.stdout, /^ {2}link sub\/soft -> \.\.\/seed\.txt$/m);
  const json = JSON.parse(wasmig(['inspect', '--json', snap]).stdout) as { memDirs: { guest: string; files: { path: string }[] }[] };
  assert.ok(json.memDirs[0]!.files.some((f) => f.path === 'notes.txt'), 'the file being written is in the snapshot');
  // Resumed from another directory, with no --mem-dir and no --dir: the files came with it.
  const rest = wasmig(['resume', snap], { cwd: tmpdir() + '/' });
  assert.is(rest.status, 0, rest.stderr);
  assert.is(first.stdout + rest.stdout, whole.stdout);
  assert.equal(readdirSync(dir).sort(), before, 'the host folder was not written');
  assert.is(readFileSync(join(dir, 'seed.txt'), 'utf8'), 'planted before the start\n');
});

test.run();
