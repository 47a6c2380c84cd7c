import { readFileSync, statSync } from 'node:fs';
import { SnapshotError, UsageError } from '../../errors/index.ts';
import { loadModuleFile, Program } from '../../program/index.ts';
import { decodeSnapshot, HEADER_SIZE, snapshotLimitFor } from '../../snapshot/index.ts';
import { flag, MAX_SNAPSHOT_USAGE, maxMemoryOption, maxSnapshotOption, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CACHE_OPTIONS, CACHE_USAGE, engineFor } from './cache-option.ts';
import { driveProgram, SNAPSHOT_OPTIONS, SNAPSHOT_USAGE, snapshotOptions, TIER_USAGE, tierOption } from './drive.ts';
import { parseDir } from './run.ts';

export const RESUME_OPTIONS: OptionSpec[] = [
  { name: 'dir', value: true, repeat: true },
  { name: 'module', value: true },
  { name: 'max-memory', value: true },
  { name: 'max-snapshot', value: true },
  { name: 'tier', value: true },
  ...SNAPSHOT_OPTIONS,
  ...CACHE_OPTIONS,
  { name: 'no-embed-module' },
];

export const RESUME_USAGE = `usage: wasmig resume [OPTIONS] SNAPSHOT

Carries on a program from a snapshot written by 'wasmig run --pause-after' (or
--snapshot-on-signal), here or on another machine, as if it had never stopped.
Its argv, environment, open files (by path, mode and offset) and clocks come
from the snapshot; its directories are this machine's, by guest name.

options:
  --dir HOST[::GUEST]   give the program the host directory HOST for the
                        preopen it knows as GUEST; repeatable
  --module PROG.wasm    the module, when the snapshot does not carry it
  --max-memory BYTES    cap linear memory (K/M/G suffixes allowed)
${MAX_SNAPSHOT_USAGE}
${TIER_USAGE}
${CACHE_USAGE}
${SNAPSHOT_USAGE}
  --no-embed-module     leave the module out of a new snapshot

Pauses chain: --pause-after counts from the program's start, not from the resume.

exit status: as 'wasmig run'; 1 when the snapshot is invalid or does not fit.`;

/**
 * A snapshot file's bytes; a missing or unreadable file is a usage error naming it. With
 * `maxBodyBytes`, a file larger than any LZ4 payload of such a body is refused unread.
 */
export function readSnapshotFile(path: string, maxBodyBytes?: number): Uint8Array {
  try {
    if (maxBodyBytes !== undefined) {
      const size = statSync(path).size;
      // LZ4's worst case: 1/255 of the body over its size, plus the block's size field and slack.
      const largest = HEADER_SIZE + maxBodyBytes + Math.ceil(maxBodyBytes / 255) + 64;
      if (size > largest) throw new SnapshotError(`${path}: ${size} bytes, more than a snapshot whose body fits the limit of ${maxBodyBytes} (--max-snapshot) can be`);
    }
    return readFileSync(path);
  } catch (cause) {
    if (cause instanceof SnapshotError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (cause as Error).message}`);
  }
}

/** Decodes a snapshot file within the receiver's caps; errors name the file. */
export function loadSnapshotFile(path: string, limits: { maxBodyBytes?: number; maxMemoryBytes?: number } = {}): { bytes: Uint8Array; decoded: ReturnType<typeof decodeSnapshot> } {
  const maxBodyBytes = limits.maxBodyBytes ?? snapshotLimitFor(limits.maxMemoryBytes);
  const bytes = readSnapshotFile(path, maxBodyBytes);
  try {
    return { bytes, decoded: decodeSnapshot(bytes, { maxBodyBytes, maxMemoryBytes: limits.maxMemoryBytes }) };
  } catch (error) {
    if (error instanceof SnapshotError) throw new SnapshotError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** `wasmig resume`: returns the process exit status. */
export async function resumeCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, RESUME_OPTIONS, false);
  if (p.positionals.length !== 1) throw new UsageError(`${p.positionals.length === 0 ? 'missing SNAPSHOT' : 'one SNAPSHOT only'}\n\n${RESUME_USAGE}`);
  const path = p.positionals[0];
  const snapshotting = snapshotOptions(p, !flag(p, 'no-embed-module'));
  const maxMemoryBytes = maxMemoryOption(p);
  const preopens = (p.options.get('dir') ?? []).map(parseDir);
  const { decoded } = loadSnapshotFile(path, { maxBodyBytes: maxSnapshotOption(p), maxMemoryBytes });
  if (decoded.state.store !== undefined) throw new SnapshotError(`${path}: a store image (from the spec-test harness), not a program's snapshot`);
  const modulePath = one(p, 'module');
  const module = modulePath !== undefined ? loadModuleFile(modulePath) : undefined;
  let program: Program;
  try {
    program = Program.resume(decoded, { module, preopens, maxMemoryBytes, engine: engineFor(p, tierOption(p, snapshotting)) });
  } catch (error) {
    if (error instanceof SnapshotError) throw new SnapshotError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
  if (program.execution === undefined) program.start(decoded.state.entry ?? '_start');
  const entry = decoded.state.entry;
  return driveProgram(program, { ...snapshotting, printResults: entry !== null && entry !== '_start' });
}
