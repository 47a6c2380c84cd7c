/**
 * Runs test-corpus programs (test/programs) in-process with their output captured,
 * pauses them, snapshots them and resumes them elsewhere: what the snapshot tests share.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, lstatSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledModule } from '../../src/compile/index.ts';
import { Trap } from '../../src/errors/index.ts';
import { loadModuleFile, Program } from '../../src/program/index.ts';
import { argvOf, programCases } from '../programs/cases.ts';
import type { ProgramCase } from '../programs/cases.ts';
import { prepareFixture } from './program-fixture.ts';
import type { Fixture } from './program-fixture.ts';

export function findCase(name: string): ProgramCase {
  const c = programCases.find((p) => p.name === name);
  if (!c) throw new Error(`no program case ${name}`);
  return c;
}

/** A number from the environment (test sizes are tunable: CI shares a small machine). */
export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number`);
  return n;
}

const compiledCache = new Map<string, CompiledModule>();
export function compiledOf(c: ProgramCase): CompiledModule {
  let m = compiledCache.get(c.wasm);
  if (!m) compiledCache.set(c.wasm, (m = loadModuleFile(c.wasm)));
  return m;
}

/** How a run ended, and what it left. */
export interface Ending {
  status: number;
  trap: string | undefined;
  /** sha256 of linear memory 0 at the end. */
  memory: string;
  instructions: number;
}

/** A scratch place for one run: a copy of the case's tree, a stdout file, an empty stdin. */
export class Sandbox {
  readonly dir: string;
  readonly stdoutPath: string;
  readonly stdout: number;
  readonly stdin: number;
  constructor(readonly root: string, readonly c: ProgramCase) {
    this.dir = mkdtempSync(join(tmpdir(), 'wasmig-snap-'));
    this.stdoutPath = join(this.dir, 'stdout');
    this.stdout = openSync(this.stdoutPath, 'w+');
    const stdinPath = join(this.dir, 'stdin');
    cpSync('/dev/null', stdinPath);
    this.stdin = openSync(stdinPath, 'r');
    copyTree(root, join(this.dir, 'tree'));
  }

  /** The case's preopens, under this sandbox's copy of the tree. */
  preopens(): { host: string; guest: string }[] {
    return this.c.dirs.map((d) => ({ guest: d.guest, host: join(this.dir, 'tree', d.host) }));
  }

  output(): Buffer {
    return readFileSync(this.stdoutPath);
  }

  dispose(): void {
    closeSync(this.stdout);
    closeSync(this.stdin);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Copies a directory tree as it is, times included, and leaves the source's access times
 * as they were (reading a file would move them, and programs check the times they set).
 */
export function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name), dst = join(to, name);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) copyTree(src, dst);
    else {
      copyFileSync(src, dst);
      utimesSync(src, st.atime, st.mtime);
      utimesSync(dst, st.atime, st.mtime);
    }
  }
  const st = statSync(from);
  utimesSync(to, st.atime, st.mtime);
}

export async function caseFixture(c: ProgramCase): Promise<Fixture> {
  return prepareFixture(c.dirs, c.setup ?? []);
}

export function startProgram(c: ProgramCase, box: Sandbox): Program {
  const p = Program.instantiate(compiledOf(c), {
    args: argvOf(c), env: { ...c.env }, preopens: box.preopens(), stdout: box.stdout, stdin: box.stdin,
  });
  p.start();
  return p;
}

export function resumeProgram(c: ProgramCase, box: Sandbox, snapshot: Uint8Array): Program {
  return Program.resume(snapshot, { module: compiledOf(c), preopens: box.preopens(), stdout: box.stdout, stdin: box.stdin });
}

export function memoryHash(p: Program): string {
  const mem = p.instance.exports.get('memory');
  if (!mem) return '';
  return createHash('sha256').update(new Uint8Array(p.store.state.memories[mem.addr].memory.buffer)).digest('hex');
}

/** Runs the program to its end. */
export function finish(p: Program): Ending {
  let status = 0;
  let trap: string | undefined;
  try {
    const outcome = p.run();
    if (outcome.kind === 'exited') status = outcome.status;
    else if (outcome.kind === 'paused') throw new Error('paused without being asked');
  } catch (error) {
    if (!(error instanceof Trap)) throw error;
    status = 134;
    trap = error.message;
  }
  return { status, trap, memory: memoryHash(p), instructions: p.store.thread.instructions };
}

/** `count` pause points spread evenly over [from, to], plus the given ones, sorted and distinct. */
export function spreadPoints(from: number, to: number, count: number, extra: number[] = []): number[] {
  const set = new Set<number>(extra.filter((x) => x >= from && x <= to));
  if (count > 0) {
    for (let i = 0; i < count; i++) set.add(from + Math.round(((to - from) * i) / Math.max(1, count - 1)));
  }
  return [...set].sort((a, b) => a - b);
}
