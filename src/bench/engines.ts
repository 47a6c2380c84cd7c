/**
 * The engines `wasmig bench` compares, and how to start one run of a module on each:
 * every run is a child process of its own.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeUnavailable } from './native-engine.ts';

export const ENGINE_NAMES = ['interp', 'native', 'v8', 'wasm3', 'iwasm'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

/** A command line that runs one module with its arguments. */
export interface Launch {
  command: string;
  args: string[];
}

export interface Engine {
  name: EngineName;
  /** What it is, for the usage text. */
  description: string;
  /** Iterations of a first, short calibration run (well under a second). */
  firstGuess: number;
  /**
   * Why the engine cannot run here (undefined when it can): `skipped` for an outside
   * runtime that is not installed, `unavailable` for a tier of ours not built.
   */
  check(): { status: 'skipped' | 'unavailable'; reason: string } | undefined;
  launch(wasm: string, args: readonly string[]): Launch;
}

/** The absolute path of an executable on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `node child.(ts|js) ENGINE ...`: from the sources, the child needs the same TypeScript
 * loader (tsx) as this process; from dist/ it is plain JavaScript.
 */
function childLaunch(engine: EngineName, wasm: string, args: readonly string[]): Launch {
  const self = fileURLToPath(import.meta.url);
  const fromSources = self.endsWith('.ts');
  const child = join(self, '..', fromSources ? 'child.ts' : 'child.js');
  const loader = fromSources ? ['--import', import.meta.resolve('tsx')] : [];
  return { command: process.execPath, args: ['--no-warnings', ...loader, child, engine, wasm, ...args] };
}

function outside(name: 'wasm3' | 'iwasm', description: string, firstGuess: number): Engine {
  return {
    name, description, firstGuess,
    check: () => (findOnPath(name) ? undefined : { status: 'skipped', reason: `${name} not found on PATH` }),
    launch: (wasm, args) => ({ command: findOnPath(name) ?? name, args: [wasm, ...args] }),
  };
}

export const ENGINES: Readonly<Record<EngineName, Engine>> = {
  interp: {
    name: 'interp', description: "wasmig's interpreter", firstGuess: 30,
    check: () => undefined,
    launch: (wasm, args) => childLaunch('interp', wasm, args),
  },
  native: {
    name: 'native', description: "wasmig's native tier", firstGuess: 200,
    check: () => {
      const reason = nativeUnavailable();
      return reason === undefined ? undefined : { status: 'unavailable', reason };
    },
    launch: (wasm, args) => childLaunch('native', wasm, args),
  },
  v8: {
    name: 'v8', description: "the module unmodified on Node's V8, with node:wasi", firstGuess: 1000,
    check: () => undefined,
    launch: (wasm, args) => childLaunch('v8', wasm, args),
  },
  wasm3: outside('wasm3', 'the wasm3 interpreter, when on PATH', 100),
  iwasm: outside('iwasm', 'WAMR (iwasm), when on PATH', 100),
};
