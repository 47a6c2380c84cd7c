import { UsageError } from '../../errors/index.ts';
import { loadModuleFile, Program } from '../../program/index.ts';
import type { RunOutcome } from '../../runtime/index.ts';
import { ValType } from '../../wasm/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { formatValue } from '../format.ts';

export const RUN_OPTIONS: OptionSpec[] = [
  { name: 'invoke', value: true },
  { name: 'dir', value: true, repeat: true },
  { name: 'env', value: true, repeat: true },
  { name: 'tier', value: true },
  { name: 'max-memory', value: true },
];

export const RUN_USAGE = `usage: wasmig run [OPTIONS] PROG.wasm [ARGS...]

Runs a WebAssembly program: its WASI entry point _start with ARGS as argv
(argv[0] is PROG.wasm as given), or with --invoke an exported function with ARGS
as its parameters, printing its results.

options (before PROG.wasm; everything after it goes to the program):
  --invoke NAME         call the export NAME instead of _start
  --dir HOST[::GUEST]   give the program the host directory HOST, named GUEST
                        (default: the same name); repeatable
  --env NAME=VALUE      set an environment variable for the program; repeatable
  --tier interp         the execution tier (only the interpreter for now)
  --max-memory BYTES    cap linear memory (K/M/G suffixes allowed)

exit status: the program's own (proc_exit); 134 after a trap; 1 when the module
cannot be loaded or linked; 2 for a usage error.`;

/** Slices between two looks at the event loop (signals, timers): about 10-50 ms each. */
const SLICE_INSTRUCTIONS = 5_000_000;

export function parseDir(spec: string): { host: string; guest: string } {
  const i = spec.indexOf('::');
  const host = i >= 0 ? spec.slice(0, i) : spec;
  const guest = i >= 0 ? spec.slice(i + 2) : spec;
  if (!host || !guest) throw new UsageError(`--dir ${JSON.stringify(spec)}: expected HOST[::GUEST]`);
  return { host, guest };
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

/** `wasmig run`: returns the process exit status. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, RUN_OPTIONS, true);
  const [path, ...rest] = p.positionals;
  if (!path) throw new UsageError(`missing PROG.wasm\n\n${RUN_USAGE}`);
  const tier = one(p, 'tier') ?? 'interp';
  if (tier !== 'interp' && tier !== 'auto') throw new UsageError(`--tier ${tier}: only the interpreter tier (interp) is built so far`);
  const maxMemory = integer(p, 'max-memory', 1);
  const compiled = loadModuleFile(path);
  const invoke = one(p, 'invoke');
  const program = Program.instantiate(compiled, {
    args: invoke ? [path] : [path, ...rest],
    env: parseEnv(p.options.get('env') ?? []),
    preopens: (p.options.get('dir') ?? []).map(parseDir),
    maxMemoryBytes: maxMemory,
  });

  let execution;
  if (invoke) {
    const e = program.export(invoke);
    if (e.kind !== 'func') throw new UsageError(`export ${JSON.stringify(invoke)} is a ${e.kind}, not a function`);
    const params = program.store.state.funcs[e.addr].type.params;
    if (rest.length !== params.length) throw new UsageError(`${invoke} takes ${params.length} argument${params.length === 1 ? '' : 's'}, ${rest.length} given`);
    execution = program.start(invoke, rest.map((a, i) => parseInvokeArg(a, params[i], i)));
  } else {
    if (!program.instance.exports.has('_start')) throw new UsageError(`${path} exports no _start function: name one with --invoke NAME`);
    const start = program.export('_start');
    if (start.kind === 'func' && program.store.state.funcs[start.addr].type.params.length > 0) {
      throw new UsageError(`${path}: its _start takes parameters, so it is not a WASI command: call it with --invoke _start ARGS`);
    }
    execution = program.start('_start');
  }

  let outcome: RunOutcome;
  for (;;) {
    outcome = execution.run({ budget: SLICE_INSTRUCTIONS });
    if (outcome.kind !== 'paused') break;
    // Let signals and timers in between slices.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (outcome.kind === 'exited') return outcome.status;
  if (invoke) for (const r of outcome.results) process.stdout.write(`${formatValue(r)}\n`);
  void flag;
  return 0;
}
