/**
 * Runs the official WebAssembly test suite, converted by wabt's wast2json, against
 * wasmig. Usage: npm run spec -- [--suite DIR] [--json FILE] [--verbose] [--exact] [--js-after N] [--snapshot-every N] [--passing] [NAME...]
 * Default suite: ../shared/spec-tests/wasm-2.0 beside the checkout. `--passing` runs only the
 * Wasm 3.0 scripts wasmig passes completely (`wasm-3.0-passing.ts`; `npm run spec:3`).
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModule } from '../src/binary/index.ts';
import { compileModule } from '../src/compile/index.ts';
import type { BodyFacts } from '../src/compile/index.ts';
import { DecodeError, ExhaustionError, LinkError, Trap, UncaughtException, UnsupportedError, ValidationError } from '../src/errors/index.ts';
import { createHostGlobal, createHostMemory, createHostTable, externId, Store } from '../src/runtime/index.ts';
import type { ExternVal, Imports, Instance } from '../src/runtime/index.ts';
import { WASM3_PASSING } from './wasm-3.0-passing.ts';
import { LARGE_STACK_FRAMES, LARGE_STACK_VALUES, Migrator, migrationStats } from './migrate.ts';
import { ValType } from '../src/wasm/types.ts';
import type { Module } from '../src/wasm/types.ts';

interface SpecValue { type: string; value?: string | string[]; lane_type?: string }
interface Action { type: 'invoke' | 'get'; module?: string; field: string; args?: SpecValue[] }
interface Command {
  type: string; line: number; filename?: string; name?: string; as?: string;
  action?: Action; expected?: SpecValue[]; text?: string; module_type?: string;
  /**
   * `(either v1 v2 ...)` (relaxed SIMD scripts): the one result may be any of these, the
   * choices the spec leaves to the host; wasmig's must be among them.
   */
  either?: SpecValue[];
  /** `(module definition ...)` (Wasm 3.0 scripts): decoded and validated, not instantiated. */
  definition?: string;
}

export interface FileResult { passed: number; failed: number; skipped: number; failures: string[] }

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_SUITE = resolve(repoRoot, '..', 'shared', 'spec-tests', 'wasm-2.0');

class Skip extends Error {}

/**
 * Assertions of the 2.0 suite that Wasm 3.0 reversed, by script, as the line of the
 * command or its expected text: wasmig implements 3.0, so these count as skipped, not
 * failed (the 3.0 suite asserts the opposite). Extended constant expressions let a
 * global's initializer read the globals before it and a segment's offset any global;
 * multi-memory allows several memories and makes the 0x00 after memory.size, grow, fill,
 * init and copy a memory index; a memarg's flags 32..63 become an alignment too large
 * (invalid), 64..127 a memory index and an alignment.
 */
const SUPERSEDED: Record<string, Record<string, (number | string)[]>> = {
  'wasm-2.0': {
    global: [352, 356], data: [89, 93], elem: [171, 175],
    memory: ['multiple memories'], imports: ['multiple memories'], binary: ['zero byte expected'], align: [892, 911, 930, 949, 968],
  },
};

/** The `spectest` host module every script may import from. */
function spectestImports(store: Store): Record<string, ExternVal | ((...args: unknown[]) => void)> {
  const noop = (): void => {};
  return {
    print: noop, print_i32: noop, print_i64: noop, print_f32: noop, print_f64: noop, print_i32_f32: noop, print_f64_f64: noop,
    global_i32: createHostGlobal(store, ValType.i32, false, 666),
    global_i64: createHostGlobal(store, ValType.i64, false, 666n),
    global_f32: createHostGlobal(store, ValType.f32, false, 666.6),
    global_f64: createHostGlobal(store, ValType.f64, false, 666.6),
    table: createHostTable(store, ValType.funcref, 10, 20),
    table64: createHostTable(store, ValType.funcref, 10, 20, true),
    memory: createHostMemory(store, 1, 2),
  };
}

const LANE_BITS: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 };

/** A v128 given as lanes: its 128 bits, lane 0 lowest. */
function parseV128(v: SpecValue): bigint {
  const bits = LANE_BITS[v.lane_type!];
  const lanes = v.value as string[];
  let x = 0n;
  for (let i = lanes.length - 1; i >= 0; i--) x = (x << BigInt(bits)) | BigInt.asUintN(bits, BigInt(lanes[i]));
  return x;
}

/** One float lane (or scalar) against an expected value: exact bits, or a NaN class. */
function floatMatches(bits: number, actual: bigint, value: string): boolean {
  const exp = bits === 32 ? 0x7f800000n : 0x7ff0000000000000n;
  const quiet = bits === 32 ? 0x400000n : 0x8000000000000n;
  const payload = bits === 32 ? 0x7fffffn : 0xfffffffffffffn;
  if (value === 'nan:canonical') return (actual & exp) === exp && (actual & payload) === quiet;
  if (value === 'nan:arithmetic') return (actual & exp) === exp && (actual & quiet) !== 0n;
  return actual === BigInt.asUintN(bits, BigInt(value));
}

function checkV128(expected: SpecValue, actual: bigint): string | undefined {
  const laneType = expected.lane_type!;
  const bits = LANE_BITS[laneType];
  const lanes = expected.value as string[];
  const mask = (1n << BigInt(bits)) - 1n;
  for (let i = 0; i < lanes.length; i++) {
    const lane = (actual >> BigInt(i * bits)) & mask;
    const ok = laneType[0] === 'f' ? floatMatches(bits, lane, lanes[i]) : lane === BigInt.asUintN(bits, BigInt(lanes[i]));
    if (!ok) return `expected v128 ${laneType} ${lanes.join(' ')}, got 0x${actual.toString(16).padStart(32, '0')} (lane ${i})`;
  }
  return undefined;
}

function parseRaw(store: Store, v: SpecValue): bigint {
  if (v.type === 'v128') return parseV128(v);
  if (v.type === 'externref') return v.value === 'null' ? 0n : BigInt(externId(store.state, Number(v.value)) + 1);
  if (v.type === 'funcref') {
    if (v.value === 'null') return 0n;
    throw new Skip('funcref argument');
  }
  return BigInt(v.value as string);
}

function checkResult(store: Store, expected: SpecValue, actual: bigint): string | undefined {
  const value = expected.value as string | undefined;
  const show = (): string => `expected ${expected.type} ${value}, got 0x${actual.toString(16)}`;
  switch (expected.type) {
    case 'i32': return BigInt.asUintN(32, actual) === BigInt(value!) ? undefined : show();
    case 'i64': return BigInt.asUintN(64, actual) === BigInt(value!) ? undefined : show();
    case 'f32': {
      const bits = Number(actual & 0xffffffffn);
      if (value === 'nan:canonical') return (bits & 0x7fffffff) === 0x7fc00000 ? undefined : show();
      if (value === 'nan:arithmetic') return (bits & 0x7fc00000) === 0x7fc00000 ? undefined : show();
      return bits === Number(value) ? undefined : show();
    }
    case 'f64': {
      if (value === 'nan:canonical') return (actual & 0x7fffffffffffffffn) === 0x7ff8000000000000n ? undefined : show();
      if (value === 'nan:arithmetic') return (actual & 0x7ff8000000000000n) === 0x7ff8000000000000n ? undefined : show();
      return actual === BigInt(value!) ? undefined : show();
    }
    case 'externref':
      if (value === 'null') return actual === 0n ? undefined : show();
      if (value === undefined) return actual !== 0n ? undefined : show();
      return actual !== 0n && store.state.externs[Number(actual) - 1] === Number(value) ? undefined : show();
    case 'funcref':
      if (value === 'null') return actual === 0n ? undefined : show();
      return actual !== 0n ? undefined : show();
    case 'v128': return checkV128(expected, actual);
    default: return `unknown expected type ${expected.type}`;
  }
}

/** An `either` expectation: one result, matching at least one of the alternatives. */
function checkEither(store: Store, alternatives: SpecValue[], actual: bigint[]): string | undefined {
  if (actual.length !== 1) return `expected 1 result (either of ${alternatives.length}), got ${actual.length}`;
  const misses: string[] = [];
  for (const alternative of alternatives) {
    const miss = checkResult(store, alternative, actual[0]);
    if (miss === undefined) return undefined;
    misses.push(miss);
  }
  return `none of ${alternatives.length} alternatives: ${misses.join('; ')}`;
}

/** `--exact`: run on the exact code only (the default also uses the fast code). */
let useFastCode = true;

/** `--js-after N`: compile a function to JavaScript after N block entries (0: at once; -1: never). */
let jsAfter: number | undefined;

/** `--snapshot-every N`: migrate each invoke to a fresh store every N instructions (see migrate.ts). */
let snapshotEvery: number | undefined;

/** Runs one converted script; every command counts once. */
/** Ways to run a script's modules on another engine (the native tier's differential check). */
export interface ScriptHooks {
  /** Given every instance the script creates (also one a failing instantiation left behind, with no exports). */
  instantiated?(store: Store, instance: Instance): void;
  /** Calls a function with raw arguments (default: `store.invokeRaw`). */
  invoke?(store: Store, funcAddr: number, args: bigint[]): bigint[];
  /** What a loader knows of a module's bodies without validating them (`KnownFacts`); default: nothing, every body validated. */
  knownFacts?(bytes: Uint8Array, module: Module): BodyFacts | undefined;
}

export function runScript(jsonPath: string, hooks: ScriptHooks = {}): FileResult {
  const dir = dirname(jsonPath);
  const script = JSON.parse(readFileSync(jsonPath, 'utf8')) as { commands: Command[] };
  const result: FileResult = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const superseded = SUPERSEDED[basename(dir)]?.[basename(jsonPath, '.json')] ?? [];
  const store = new Store({ fast: useFastCode, jsAfter });
  const migrator = snapshotEvery === undefined ? undefined : new Migrator(store, snapshotEvery);
  const registered = new Map<string, Map<string, ExternVal>>();
  registered.set('spectest', new Map(Object.entries(spectestImports(store)) as [string, ExternVal][]));
  const named = new Map<string, Instance>();
  let current: Instance | undefined;
  /** Modules wasmig refused as unsupported (SIMD): commands that use them are skipped, not failed. */
  const refusedNames = new Set<string>();
  let currentRefused = false;

  const load = (filename: string): ReturnType<typeof compileModule> => {
    const bytes = new Uint8Array(readFileSync(join(dir, filename)));
    const module = decodeModule(bytes);
    const compiled = compileModule(module, hooks.knownFacts?.(bytes, module));
    migrator?.addModule(compiled);
    return compiled;
  };
  const imports = (): Imports => {
    const out: Imports = {};
    for (const [name, exports] of registered) out[name] = Object.fromEntries(exports);
    return out;
  };
  const instantiate = (filename: string): Instance => {
    if (!hooks.instantiated) return store.instantiate(load(filename), imports());
    const compiled = load(filename);
    const before = store.state.funcs.length;
    try {
      const inst = store.instantiate(compiled, imports());
      hooks.instantiated(store, inst);
      return inst;
    } catch (error) {
      // A failed instantiation may leave functions behind in shared tables.
      const orphan = store.state.funcs.slice(before).find((f) => f.kind === 0);
      if (orphan && orphan.kind === 0) hooks.instantiated(store, { compiled, state: orphan.instance, exports: new Map() });
      throw error;
    }
  };
  const target = (name: string | undefined): Instance => {
    if (name === undefined ? currentRefused : refusedNames.has(name)) throw new Skip('unsupported module');
    const inst = name === undefined ? current : named.get(name);
    if (!inst) throw new Error(`no module ${name ?? '(current)'}`);
    return inst;
  };
  const perform = (action: Action): bigint[] => {
    const inst = target(action.module);
    const ext = inst.exports.get(action.field);
    if (!ext) throw new Error(`no export ${action.field}`);
    if (action.type === 'get') {
      const g = store.state.globals[ext.addr];
      const low = (BigInt(g.hi >>> 0) << 32n) | BigInt(g.lo >>> 0);
      if (g.type !== ValType.v128) return [low];
      return [(((BigInt(g.hi2 >>> 0) << 32n) | BigInt(g.lo2 >>> 0)) << 64n) | low];
    }
    const args = (action.args ?? []).map((a) => parseRaw(store, a));
    if (hooks.invoke) return hooks.invoke(store, ext.addr, args);
    return migrator ? migrator.invoke(ext.addr, args) : store.invokeRaw(ext.addr, args);
  };
  let lastError: unknown;
  const expectError = (fn: () => unknown, kind: new (...args: never[]) => Error, what: string): string | undefined => {
    try {
      fn();
    } catch (error) {
      lastError = error;
      if (error instanceof Skip) throw error;
      if (error instanceof kind) return undefined;
      // Refused as unsupported: judged valid, so only a check for invalid or malformed fails.
      if (error instanceof UnsupportedError && kind !== ValidationError && kind !== DecodeError) throw new Skip('unsupported');
      return `expected ${what}, got ${(error as Error).name}: ${(error as Error).message}`;
    }
    return `expected ${what}, but it succeeded`;
  };

  for (const cmd of script.commands) {
    let failure: string | undefined;
    try {
      if (superseded.includes(cmd.line) || (cmd.text !== undefined && superseded.includes(cmd.text))) throw new Skip('superseded by Wasm 3.0');
      switch (cmd.type) {
        case 'module': {
          if (cmd.definition === 'true') {
            load(cmd.filename!);
            break;
          }
          try {
            current = instantiate(cmd.filename!);
            currentRefused = false;
            if (cmd.name) { named.set(cmd.name, current); refusedNames.delete(cmd.name); }
          } catch (error) {
            if (!(error instanceof UnsupportedError)) throw error;
            currentRefused = true;
            if (cmd.name) refusedNames.add(cmd.name);
            throw new Skip('unsupported module');
          }
          break;
        }
        case 'register': {
          const inst = target(cmd.name);
          registered.set(cmd.as!, inst.exports);
          break;
        }
        case 'action': perform(cmd.action!); break;
        case 'assert_return': {
          const actual = perform(cmd.action!);
          if (cmd.either !== undefined) {
            failure = checkEither(store, cmd.either, actual);
            break;
          }
          const expected = cmd.expected ?? [];
          if (actual.length !== expected.length) failure = `expected ${expected.length} results, got ${actual.length}`;
          else for (let i = 0; i < expected.length && !failure; i++) failure = checkResult(store, expected[i], actual[i]);
          break;
        }
        case 'assert_trap':
          failure = expectError(() => perform(cmd.action!), Trap, `trap "${cmd.text}"`);
          // An exception that escapes is not a trap, though wasmig's class derives from Trap.
          if (failure === undefined && lastError instanceof UncaughtException) failure = `expected trap "${cmd.text}", got ${lastError.message}`;
          break;
        case 'assert_exception':
          failure = expectError(() => perform(cmd.action!), UncaughtException, 'an uncaught exception');
          break;
        case 'assert_exhaustion':
          failure = expectError(() => perform(cmd.action!), ExhaustionError, `exhaustion "${cmd.text}"`);
          break;
        case 'assert_invalid':
          if (cmd.module_type === 'text') throw new Skip('text module');
          failure = expectError(() => load(cmd.filename!), ValidationError, `invalid module "${cmd.text}"`);
          break;
        case 'assert_malformed':
          if (cmd.module_type === 'text') throw new Skip('text module');
          failure = expectError(() => load(cmd.filename!), DecodeError, `malformed module "${cmd.text}"`);
          break;
        case 'assert_unlinkable':
          failure = expectError(() => instantiate(cmd.filename!), LinkError, `unlinkable module "${cmd.text}"`);
          break;
        case 'assert_uninstantiable':
          failure = expectError(() => instantiate(cmd.filename!), Trap, `uninstantiable module "${cmd.text}"`);
          break;
        default:
          throw new Skip(cmd.type);
      }
    } catch (error) {
      if (error instanceof Skip) {
        result.skipped++;
        continue;
      }
      failure = `${(error as Error).name}: ${(error as Error).message}`;
    }
    if (failure) {
      result.failed++;
      result.failures.push(`line ${cmd.line} (${cmd.type}${cmd.action ? ` ${cmd.action.field}` : ''}): ${failure}`);
    } else {
      result.passed++;
    }
  }
  return result;
}

function main(argv: string[]): number {
  let suite = DEFAULT_SUITE;
  let jsonOut: string | undefined;
  let verbose = false;
  /** `--passing`: only the Wasm 3.0 scripts known to pass completely (wasm-3.0-passing.ts). */
  let passingOnly = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--suite') suite = resolve(argv[++i]);
    else if (a === '--json') jsonOut = resolve(argv[++i]);
    else if (a === '--verbose' || a === '-v') verbose = true;
    else if (a === '--exact') useFastCode = false;
    else if (a === '--js-after') {
      jsAfter = Number(argv[++i]);
      if (!Number.isInteger(jsAfter) || jsAfter < -1) {
        console.error('--js-after needs a whole number of block entries, at least -1');
        return 2;
      }
    }
    else if (a === '--passing') passingOnly = true;
    else if (a === '--snapshot-every') {
      snapshotEvery = Number(argv[++i]);
      if (!Number.isInteger(snapshotEvery) || snapshotEvery < 1) {
        console.error('--snapshot-every needs a whole number of instructions, at least 1');
        return 2;
      }
    }
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run spec -- [--suite DIR] [--json FILE] [--verbose] [--exact] [--js-after N] [--snapshot-every N] [--passing] [NAME...]');
      return 0;
    } else names.push(a.replace(/\.json$/, ''));
  }
  if (!existsSync(suite)) {
    console.error(`spec suite not found: ${suite} (convert the .wast files with wabt's wast2json and pass --suite DIR)`);
    return 2;
  }
  const files = readdirSync(suite).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
    .filter((n) => names.length === 0 || names.includes(n))
    .filter((n) => !passingOnly || WASM3_PASSING.includes(n));
  if (passingOnly) {
    // A listed script the suite lacks is an error, not a silent pass.
    const missing = WASM3_PASSING.filter((n) => !files.includes(n) && (names.length === 0 || names.includes(n)));
    if (missing.length) {
      console.error(`--passing: the suite at ${suite} lacks ${missing.join(', ')}`);
      return 2;
    }
  }
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const started = performance.now();
  const perFile: Record<string, { passed: number; failed: number; skipped: number }> = {};
  for (const name of files) {
    const r = runScript(join(suite, `${name}.json`));
    perFile[name] = { passed: r.passed, failed: r.failed, skipped: r.skipped };
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
    console.log(`${r.failed ? 'FAIL' : 'ok  '} ${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
    for (const f of r.failures.slice(0, verbose ? Infinity : 5)) console.log(`     ${f}`);
    if (!verbose && r.failures.length > 5) console.log(`     ... ${r.failures.length - 5} more (--verbose)`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ...totals, files: perFile }, null, 2));
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  if (snapshotEvery !== undefined) {
    const secs = (performance.now() - started) / 1000;
    const m = migrationStats;
    console.log(`snapshot-every ${snapshotEvery}: ${m.snapshots} snapshots taken, encoded, decoded and restored into fresh stores (${(m.bytes / 2 ** 20).toFixed(1)} MiB in all), ${secs.toFixed(1)} s`);
    console.log(`  ${m.instructions} instructions, ${m.instructions - m.instructionsOnLargeStacks} of them at that stride; ${m.instructionsOnLargeStacks} on stacks of more than ${LARGE_STACK_FRAMES} frames or ${LARGE_STACK_VALUES} values, at a longer stride (spec-tests/migrate.ts)`);
  }
  return totals.failed === 0 ? 0 : 1;
}

if (process.argv[1] && basename(process.argv[1]).startsWith('run')) process.exitCode = main(process.argv.slice(2));
