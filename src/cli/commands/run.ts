import { statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { ExhaustionError, UsageError } from '../../errors/index.ts';
import type { Engine } from '../../runtime/index.ts';
import { NativeEngine } from '../../native/index.ts';
import { loadModuleFile, Program } from '../../program/index.ts';
import { ValType } from '../../wasm/index.ts';
import { byteSize, flag, maxMemoryOption, one, parseArgs } from '../args.ts';
import type { OptionSpec, Parsed } from '../args.ts';
import { parseMemDir } from '../mem-dir.ts';
import { DEFAULT_MEM_DIR_BYTES, MAX_MEM_DIR_BYTES } from '../../wasi/index.ts';
import type { MemDirOptions } from '../../wasi/index.ts';
import { CACHE_OPTIONS, CACHE_USAGE, diskCacheOf, engineFor, knownFactsOf, runsPlain, settleEngine, unpausableEngine } from './cache-option.ts';
import { driveProgram, SNAPSHOT_OPTIONS, SNAPSHOT_USAGE, snapshotOptions, TIER_USAGE, tierOption } from './drive.ts';

export const RUN_OPTIONS: OptionSpec[] = [
  { name: 'invoke', value: true },
  { name: 'dir', value: true, repeat: true },
  { name: 'mem-dir', value: true, repeat: true },
  { name: 'mem-dir-max', value: true },
  { name: 'env', value: true, repeat: true },
  { name: 'tier', value: true },
  { name: 'max-memory', value: true },
  ...SNAPSHOT_OPTIONS,
  ...CACHE_OPTIONS,
  { name: 'no-embed-module' },
];

export const RUN_USAGE = `usage: wasmig run [OPTIONS] PROG.wasm [ARGS...]

Runs a WebAssembly program: its WASI entry point _start with ARGS as argv
(argv[0] is PROG.wasm as given), or with --invoke an exported function with ARGS
as its parameters, printing its results.

options (before PROG.wasm; everything after it goes to the program):
  --invoke NAME         call the export NAME instead of _start
  --dir HOST[::GUEST]   give the program the host directory HOST, named GUEST
                        (default: the same name); repeatable
  --mem-dir GUEST[=HOSTDIR]
                        give the program a directory GUEST in memory, empty or
                        loaded from host folder HOSTDIR; its files are part of
                        the program's state (snapshots, migrations); repeatable
  --mem-dir-max BYTES   most bytes of files each in-memory directory holds
                        (default 16M; writes beyond fail with ENOSPC)
  --env NAME=VALUE      set an environment variable for the program; repeatable
${TIER_USAGE}
${CACHE_USAGE}
  --max-memory BYTES    cap linear memory (K/M/G suffixes allowed)
  --on AGENT            run it as a job on an edge agent instead (see
                        'wasmig help run-on': --detach, broker options)
${SNAPSHOT_USAGE}
  --no-embed-module     leave the module out of the snapshot (resume then needs
                        --module PROG.wasm)

exit status: the program's own (proc_exit); 0 after a pause that wrote its
snapshot; 134 after a trap; 1 when the module cannot be loaded or linked; 2 for
a usage error.`;

/**
 * `--dir HOST[::GUEST]`: HOST must be a directory on this machine; GUEST, the name the
 * program sees, a plain path without `..` (a preopen is the root of its sandbox: a name
 * climbing out of it would mean nothing, or something it should not).
 * @throws UsageError naming the argument
 */
export function parseDir(spec: string): { host: string; guest: string } {
  const i = spec.indexOf('::');
  const host = i >= 0 ? spec.slice(0, i) : spec;
  const guest = i >= 0 ? spec.slice(i + 2) : spec;
  const bad = (why: string): never => { throw new UsageError(`--dir ${JSON.stringify(spec)}: ${why}`); };
  if (!host || !guest) bad('expected HOST[::GUEST]');
  if (host.includes('\0') || guest.includes('\0')) bad('a path cannot hold a NUL byte');
  if (guest.split('/').includes('..')) bad(`the guest name ${JSON.stringify(guest)} climbs out with '..'`);
  let stats: Stats;
  try {
    stats = statSync(host);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return bad(`${host}: ${code === 'ENOENT' ? 'no such directory' : (cause as Error).message}`);
  }
  if (!stats.isDirectory()) bad(`${host} is not a directory`);
  return { host, guest };
}

/** The `--mem-dir` options, each loaded (bounded by `--mem-dir-max`). */
export function memDirOptions(p: Parsed): MemDirOptions[] {
  const maxBytes = byteSize(p, 'mem-dir-max', 0, MAX_MEM_DIR_BYTES) ?? DEFAULT_MEM_DIR_BYTES;
  return (p.options.get('mem-dir') ?? []).map((spec) => parseMemDir(spec, maxBytes));
}

export function parseEnv(list: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of list) {
    const i = e.indexOf('=');
    if (i <= 0) throw new UsageError(`--env ${JSON.stringify(e)}: expected NAME=VALUE`);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}

function parseInvokeArg(text: string, type: number, index: number): unknown {
  const bad = (): never => { throw new UsageError(`argument ${index + 1} (${JSON.stringify(text)}) is not a valid ${['i32', 'i64', 'f32', 'f64'][[ValType.i32, ValType.i64, ValType.f32, ValType.f64].indexOf(type as never)] ?? 'value'}`); };
  switch (type) {
    case ValType.i32: {
      if (!/^[-+]?(0x[0-9a-f]+|\d+)$/i.test(text)) bad();
      const v = BigInt(text.replace(/^\+/, ''));
      if (v < -(2n ** 31n) || v >= 2n ** 32n) bad();
      return Number(BigInt.asIntN(32, v));
    }
    case ValType.i64: {
      if (!/^[-+]?(0x[0-9a-f]+|\d+)$/i.test(text)) bad();
      const neg = text.startsWith('-');
      const v = BigInt(text.replace(/^[-+]/, ''));
      if (v >= 2n ** 64n) bad();
      return BigInt.asIntN(64, neg ? -v : v);
    }
    case ValType.f32: case ValType.f64: {
      const v = Number(text);
      if (Number.isNaN(v) && !/^[-+]?nan$/i.test(text)) bad();
      return v;
    }
    default:
      throw new UsageError(`parameter ${index + 1} has a reference type: it cannot be given on the command line`);
  }
}

/** Whether `wasmig run` was given `--on` (before the program), i.e. is for an agent. */
export function wantsRemote(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--on' || a.startsWith('--on=')) return true;
    if (!a.startsWith('--') || a === '-') return false;
  }
  return false;
}

/**
 * The exhaustion of a plain run, saying why and what goes deeper: its calls used V8's own
 * stack (under 1 MB on Node's main thread, about 10,000-20,000 frames of a small
 * function, as under node:wasi), where the rewritten module and the interpreter allow
 * 200,000 frames.
 */
function onHostStack(error: ExhaustionError): ExhaustionError {
  const deeper = new ExhaustionError(`${error.message} (the host's stack, as under node:wasi; --tier native goes up to 200,000 calls deep)`);
  deeper.backtrace = error.backtrace;
  return deeper;
}

/** `wasmig run`: returns the process exit status. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  // A job for an agent: the fleet's module (MQTT) is loaded only then.
  if (wantsRemote(argv)) return (await import('./run-remote.ts')).runRemoteCommand(argv);
  const p = parseArgs(argv, RUN_OPTIONS, true);
  const [path, ...rest] = p.positionals;
  if (!path) throw new UsageError(`missing PROG.wasm\n\n${RUN_USAGE}`);
  const maxMemory = maxMemoryOption(p);
  const snapshotting = snapshotOptions(p, !flag(p, 'no-embed-module'));
  const tier = tierOption(p, snapshotting);
  const preopens = (p.options.get('dir') ?? []).map(parseDir);
  const memDirs = memDirOptions(p);
  // Nothing can pause this run: the module runs as it is, without safepoints, unless it cannot (runsPlain).
  const disk = diskCacheOf(p);
  const plain = tier === 'auto' ? unpausableEngine(p, process.env, disk) : undefined;
  const rewriting = engineFor(p, tier, process.env, disk);
  let engine: Engine = plain ?? rewriting;
  try {
    // Validated once: the facts are in the cache under the plain rewrite, or under the other for a module run rewritten.
    const compiled = loadModuleFile(path, knownFactsOf(plain, rewriting));
    if (plain !== undefined && !runsPlain(plain, compiled)) engine = rewriting;
    const invoke = one(p, 'invoke');
    // Asked for the native tier by name: say in one line why a module runs in the interpreter instead.
    const notNative = engine instanceof NativeEngine ? engine.cannotRun(compiled) : undefined;
    if (notNative !== undefined) process.stderr.write(`wasmig: ${path} runs in the interpreter: ${notNative}\n`);
    const program = Program.instantiate(compiled, {
      args: invoke ? [path] : [path, ...rest],
      env: parseEnv(p.options.get('env') ?? []),
      preopens,
      memDirs,
      maxMemoryBytes: maxMemory,
      engine,
    });

    let execution;
    if (invoke) {
      const e = program.export(invoke);
      if (e.kind !== 'func') throw new UsageError(`export ${JSON.stringify(invoke)} is a ${e.kind}, not a function`);
      const params = program.store.state.funcs[e.addr].type.params;
      if (rest.length !== params.length) throw new UsageError(`${invoke} takes ${params.length} argument${params.length === 1 ? '' : 's'}, ${rest.length} given`);
      const args = rest.map((a, i) => parseInvokeArg(a, params[i], i));
      // A WASI reactor's exports may only be called after its `_initialize` (the WASI
      // application ABI; wasmtime and node:wasi call it too): it runs the C constructors,
      // which set up the preopens, the heap and stdio.
      const init = program.instance.exports.get('_initialize');
      if (init?.kind === 'func' && invoke !== '_initialize' && program.store.state.funcs[init.addr].type.params.length === 0) {
        const initialized = program.start('_initialize').run();
        if (initialized.kind === 'exited') return initialized.status;
      }
      execution = program.start(invoke, args);
    } else {
      if (!program.instance.exports.has('_start')) throw new UsageError(`${path} exports no _start function: name one with --invoke NAME`);
      const start = program.export('_start');
      if (start.kind === 'func' && program.store.state.funcs[start.addr].type.params.length > 0) {
        throw new UsageError(`${path}: its _start takes parameters, so it is not a WASI command: call it with --invoke _start ARGS`);
      }
      execution = program.start('_start');
    }

    void execution;
    try {
      return await driveProgram(program, { ...snapshotting, printResults: invoke !== undefined });
    } catch (error) {
      if (engine === plain && error instanceof ExhaustionError) throw onHostStack(error);
      throw error;
    }
  } finally {
    // A rewrite nobody will use stops now, and its worker thread is gone before the process ends.
    await settleEngine(engine);
  }
}
