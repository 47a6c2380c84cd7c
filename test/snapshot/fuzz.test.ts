/**
 * Hostile snapshots: real snapshots (a paused C program with open files, deep frames,
 * the machine module of roundtrip.test.ts) mutated at random, at three levels: the file's
 * bytes, the compressed payload's bytes with a correct checksum, and the decoded state's
 * fields re-encoded into a well-formed file. Every mutant must be refused with a
 * SnapshotError, or restore into a machine that runs (to its end, a trap, an exit or
 * its budget) and can be snapshotted again. Never another exception, a crash or a hang.
 *
 * WASMIG_SNAPSHOT_FUZZ: mutants per snapshot and level (default 80); WASMIG_FUZZ_SEED.
 */
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode, decode } from '@msgpack/msgpack';
import { uncompressSync } from 'lz4-napi';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitError, SnapshotError, Trap } from '../../src/errors/index.ts';
import { loadModuleFile, Program } from '../../src/program/index.ts';
import { decodeSnapshot, encodeSnapshot, HEADER_SIZE } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { crc32 } from '../../src/snapshot/checksum.ts';
import { lz4CompressBlock } from '../../src/snapshot/lz4.ts';
import { envInt, findCase } from '../helpers/snapshot-runs.ts';
import { Seeded } from '../helpers/seeded.ts';

const MUTANTS = envInt('WASMIG_SNAPSHOT_FUZZ', 80);
const random = new Seeded(envInt('WASMIG_FUZZ_SEED', 20261123));
const rand = (): number => random.next();
const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)];
const int = (n: number): number => random.int(n);

// --- the snapshots to mutate -------------------------------------------------------------

interface Subject { name: string; bytes: Uint8Array; resume(bytes: Uint8Array): Program }

const scratch = mkdtempSync(join(tmpdir(), 'wasmig-fuzz-'));
const devNull = openSync('/dev/null', 'r+');

function programSubject(caseName: string, until: number, args?: string[]): Subject {
  const c = findCase(caseName);
  const compiled = loadModuleFile(c.wasm);
  const dir = mkdtempSync(join(scratch, `${caseName}-`));
  writeFileSync(join(dir, 'input.txt'), 'made by the host\n');
  const preopens = c.dirs.map((d) => ({ guest: d.guest, host: dir }));
  const p = Program.instantiate(compiled, { args: [c.program, ...(args ?? c.args)], env: { ...c.env }, preopens, stdout: devNull, stderr: devNull, stdin: devNull });
  p.start();
  p.run({ until });
  const bytes = p.snapshot({ embedModule: caseName === 'hello' });
  return { name: `${caseName}@${until}`, bytes, resume: (b) => Program.resume(b, { module: caseName === 'hello' ? undefined : compiled, preopens, stdout: devNull, stderr: devNull, stdin: devNull }) };
}

const subjects: Subject[] = [
  programSubject('hello', 300),
  // file_io with files open (see migrate.test.ts): a pause in the middle of its file work.
  programSubject('file_io', 150_000),
  programSubject('recursion_shallow', 30_000),
];

// --- running a mutant --------------------------------------------------------------------

const BUDGET = 20_000;

function tryMutant(subject: Subject, bytes: Uint8Array, what: string): 'rejected' | 'ran' {
  let program: Program;
  try {
    program = subject.resume(bytes);
  } catch (error) {
    if (error instanceof SnapshotError) return 'rejected';
    throw new Error(`${subject.name}, ${what}: resume threw ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
  }
  try {
    let outcome;
    try {
      outcome = program.run({ budget: BUDGET });
    } catch (error) {
      if (error instanceof Trap || error instanceof ExitError) return 'ran';
      throw error;
    }
    // A machine that restored is a valid machine: it snapshots and restores again.
    if (outcome.kind === 'paused') subject.resume(program.snapshot());
    return 'ran';
  } catch (error) {
    throw new Error(`${subject.name}, ${what}: the restored machine failed: ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
  } finally {
    program.wasi.close();
  }
}

// --- level 1: bytes of the file ----------------------------------------------------------

function mutateBytes(b: Uint8Array): [Uint8Array, string] {
  const out = b.slice();
  switch (int(4)) {
    case 0: { const i = int(out.length); out[i] ^= 1 << int(8); return [out, `bit flip at ${i}`]; }
    case 1: { const n = int(out.length); return [out.subarray(0, n), `truncated to ${n}`]; }
    case 2: { const i = int(out.length); out[i] = int(256); return [out, `byte ${i} replaced`]; }
    default: { const i = int(HEADER_SIZE); out[i] = int(256); return [out, `header byte ${i} replaced`]; }
  }
}

/** Recomputes the header's checksum after the payload was changed. */
function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(12, crc32(b.subarray(HEADER_SIZE)), true);
  return b;
}

// --- level 2: the compressed payload, correctly checksummed -------------------------------

function mutatePayload(b: Uint8Array): [Uint8Array, string] {
  const out = b.slice();
  const i = HEADER_SIZE + int(out.length - HEADER_SIZE);
  out[i] ^= 1 << int(8);
  return [reseal(out), `payload bit flip at ${i}`];
}

/** A body (uncompressed msgpack) changed, recompressed and sealed. */
function withBody(original: Uint8Array, body: Uint8Array): Uint8Array {
  const payload = lz4CompressBlock(body);
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  out.set(original.subarray(0, HEADER_SIZE));
  out.set(payload, HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(16, payload.length, true);
  view.setUint32(20, body.length, true);
  return reseal(out);
}

function mutateBody(original: Uint8Array): [Uint8Array, string] {
  const { body } = rawBody(original);
  const i = int(body.length);
  const b = body.slice();
  b[i] = int(256);
  return [withBody(original, b), `msgpack byte ${i} replaced`];
}

function rawBody(bytes: Uint8Array): { body: Uint8Array } {
  const decoded = decode(uncompressBody(bytes), { useBigInt64: true });
  return { body: encode(decoded, { useBigInt64: true }) };
}

function uncompressBody(bytes: Uint8Array): Uint8Array {
  // lz4-napi block format with the size prepended, as the format says.
  return uncompressSync(Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_SIZE, bytes.length - HEADER_SIZE));
}

// --- level 3: fields of the decoded state ------------------------------------------------

type Path = (string | number)[];

function paths(x: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (x instanceof Uint8Array) return out;
  if (Array.isArray(x)) {
    // Sample long arrays (table elements, memory page lists) rather than list them all.
    const n = x.length;
    const indices = n <= 16 ? [...Array(n).keys()] : [0, 1, n - 1, int(n), int(n)];
    for (const i of indices) paths(x[i], [...prefix, i], out);
  } else if (typeof x === 'object' && x !== null) {
    for (const k of Object.keys(x)) paths((x as Record<string, unknown>)[k], [...prefix, k], out);
  }
  return out;
}

const replacements: (() => unknown)[] = [
  () => null, () => undefined, () => -1, () => 0, () => 1, () => 2 ** 31, () => 2 ** 32 + 5, () => -(2 ** 31) - 1,
  () => 1.5, () => Number.MAX_SAFE_INTEGER, () => 2n ** 63n, () => -1n, () => 0n, () => 'x', () => '../../etc/passwd',
  () => true, () => [], () => [1, 2, 3], () => ({}), () => new Uint8Array(3), () => new Uint8Array(65536),
  () => Array(70000).fill(0),
];

function mutateState(state: CanonicalState): string {
  const all = paths(state).filter((p) => p.length > 0);
  const path = pick(all);
  let parent: Record<string | number, unknown> = state as unknown as Record<string, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1];
  const old = parent[key];
  let what: string;
  const r = rand();
  if (typeof old === 'number' && r < 0.5) {
    const delta = pick([1, -1, 2, 7, 100, -100, 65536]);
    parent[key] = old + delta;
    what = `${path.join('.')} += ${delta}`;
  } else if (typeof old === 'bigint' && r < 0.5) {
    parent[key] = old ^ (1n << BigInt(int(64)));
    what = `${path.join('.')} bit flipped`;
  } else if (Array.isArray(old) && r < 0.4) {
    if (old.length && rand() < 0.5) { old.pop(); what = `${path.join('.')} shortened`; } else { old.push(old[0] ?? 0); what = `${path.join('.')} lengthened`; }
  } else if (old instanceof Uint8Array && r < 0.5) {
    const copy = old.slice(0, Math.max(0, old.length - int(3)));
    parent[key] = copy;
    what = `${path.join('.')} shortened to ${copy.length}`;
  } else if (r < 0.6 && !Array.isArray(parent)) {
    delete parent[key];
    what = `${path.join('.')} deleted`;
  } else {
    const v = pick(replacements)();
    parent[key] = v;
    what = `${path.join('.')} = ${typeof v === 'object' ? (Array.isArray(v) ? `array(${v.length})` : String(v?.constructor?.name)) : String(v)}`;
  }
  return what;
}

function check(level: string, mutate: (subject: Subject) => [Uint8Array, string]): void {
  test(`fuzz: ${level}`, () => {
    for (const subject of subjects) {
      const tally = { rejected: 0, ran: 0 };
      for (let i = 0; i < MUTANTS; i++) {
        const [bytes, what] = mutate(subject);
        tally[tryMutant(subject, bytes, what)]++;
      }
      assert.is(tally.rejected + tally.ran, MUTANTS);
      if (process.env["WASMIG_FUZZ_VERBOSE"]) console.log(level, subject.name, tally);
    }
  });
}

check('bytes of the file', (s) => mutateBytes(s.bytes));
check('compressed payload with a valid checksum', (s) => mutatePayload(s.bytes));
check('msgpack body, recompressed and sealed', (s) => mutateBody(s.bytes));
check('fields of the state, re-encoded', (s) => {
  const decoded = decodeSnapshot(s.bytes);
  const state = structuredClone(decoded.state);
  const what = mutateState(state);
  let bytes: Uint8Array;
  try {
    bytes = encodeSnapshot(state as CanonicalState, { module: decoded.module });
  } catch {
    // Some mutants cannot even be encoded (undefined fields): encode them by hand.
    bytes = withBody(s.bytes, encode({ state, module: decoded.module }, { useBigInt64: true }));
  }
  return [bytes, what];
});

test('fuzz: the unmutated snapshots restore and run', () => {
  for (const s of subjects) assert.is(tryMutant(s, s.bytes, 'none'), 'ran');
});

test('fuzz: cleanup', () => {
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
