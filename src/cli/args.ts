import { UsageError } from '../errors/index.ts';

/** One option a command takes: `--name VALUE` (or a flag without a value). */
export interface OptionSpec {
  name: string;
  value?: boolean;
  repeat?: boolean;
}

export interface Parsed {
  options: Map<string, string[]>;
  positionals: string[];
}

/**
 * Parses `[OPTIONS] FIRST [REST...]`: options are read until the first positional;
 * with `stopAtFirstPositional`, everything after it belongs to the guest program
 * (`wasmig run prog.wasm --help` passes `--help` to the program).
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], stopAtFirstPositional: boolean): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      if (stopAtFirstPositional) { i++; break; }
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    let value = '';
    if (spec.value) {
      if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`--${name} needs a value`);
    } else if (eq > 0) throw new UsageError(`--${name} takes no value`);
    const list = options.get(name) ?? [];
    if (list.length && !spec.repeat) throw new UsageError(`--${name} given twice`);
    list.push(value);
    options.set(name, list);
  }
  for (; i < argv.length; i++) positionals.push(argv[i]);
  return { options, positionals };
}

export function one(p: Parsed, name: string): string | undefined {
  return p.options.get(name)?.[0];
}

export function flag(p: Parsed, name: string): boolean {
  return p.options.has(name);
}

export function integer(p: Parsed, name: string, min = 0): number | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  const n = parseSize(v);
  if (n === undefined || n < min) throw new UsageError(`--${name} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, not ${JSON.stringify(v)}`);
  return n;
}

/** The most linear memory a wasm32 program can have: 65536 pages of 64 KiB. */
export const WASM32_MAX_MEMORY = 4 * 1024 ** 3;

/**
 * A byte count given as `--NAME BYTES` (K/M/G suffixes), within `[min, max]`; the error
 * names the argument and the bound it broke.
 * @throws UsageError
 */
export function byteSize(p: Parsed, name: string, min: number, max: number, why = ''): number | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  const n = parseSize(v);
  if (n === undefined) throw new UsageError(`--${name} ${JSON.stringify(v)}: expected a byte count such as 512M or 2G`);
  if (n < min) throw new UsageError(`--${name} ${v}: less than the least allowed, ${sizeText(min)}`);
  if (n > max) throw new UsageError(`--${name} ${v}: more than ${sizeText(max)}${why}`);
  return n;
}

/** `--max-memory`: a cap on a program's linear memory, one page to wasm32's 4 GiB. */
export function maxMemoryOption(p: Parsed): number | undefined {
  return byteSize(p, 'max-memory', 65536, WASM32_MAX_MEMORY, ', the most a wasm32 memory can have');
}

/**
 * `--max-snapshot`: the receiver's cap on a snapshot's decompressed body (and on the heap
 * its decoding may take); by default sized to the memory cap (`snapshotLimitFor`).
 */
export function maxSnapshotOption(p: Parsed): number | undefined {
  return byteSize(p, 'max-snapshot', 1024 * 1024, 0xffffffff, ', the most a snapshot body can declare');
}

/** Usage lines for `--max-snapshot`. */
export const MAX_SNAPSHOT_USAGE = `  --max-snapshot BYTES  refuse a snapshot whose body would decompress to more
                        (default: --max-memory plus 64M; K/M/G suffixes)`;

/** A byte count as it is written on the command line (`4G`, `64K`, `1000`). */
function sizeText(n: number): string {
  for (const [unit, scale] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (n % scale === 0) return `${n / scale}${unit}`;
  return String(n);
}

/** Whole numbers with an optional K/M/G suffix (binary multiples), as sizes are written. */
export function parseSize(v: string): number | undefined {
  const m = /^(\d+)([kKmMgG]i?[bB]?)?$/.exec(v.trim());
  if (!m) return undefined;
  const unit = m[2]?.[0]?.toLowerCase();
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * scale;
}
