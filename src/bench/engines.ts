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
  /**
   * For the engines in Node: a child process that warms the engine up with CoreMark runs
   * and then times one (`session.ts`), given the session's options as JSON. Engines
   * without it (outside runtimes) are timed in a fresh process per run.
   */
  session?(wasm: string, optionsJson: string): Launch;
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
function childLaunch(childArgs: readonly string[]): Launch {
  const self = fileURLToPath(import.meta.url);
  const fromSources = self.endsWith('.ts');
  const child = join(self, '..', fromSources ? 'child.ts' : 'child.js');
  const loader = fromSources ? ['--import', import.meta.resolve('tsx')] : [];
  return { command: process.execPath, args: ['--no-warnings', ...loader, child, ...childArgs] };
}

/** One of the engines that run in a Node child process (`child.ts`). */
function inNode(name: 'interp' | 'native' | 'v8', description: string, firstGuess: number, check: Engine['check']): Engine {
  return {
    name, description, firstGuess, check,
    launch: (wasm, args) => childLaunch([name, wasm, ...args]),
    session: (wasm, optionsJson) => childLaunch(['--session', optionsJson, name, wasm]),
  };
}

function outside(name: 'wasm3' | 'iwasm', description: string, firstGuess: number): Engine {
  return {
    name, description, firstGuess,
    check: () => (findOnPath(name) ? undefined : { status: 'skipped', reason: `${name} not found on PATH` }),
    launch: (wasm, args) => ({ command: findOnPath(name) ?? name, args: [wasm, ...args] }),
  };
}

export const ENGINES: Readonly<Record<EngineName, Engine>> = {
  // A cold interpreter runs CoreMark at a few iterations/s for its first second.
  interp: inNode('interp', "wasmig's interpreter", 5, () => undefined),
  native: inNode('native', "wasmig's native tier", 200, () => {
    const reason = nativeUnavailable();
    return reason === undefined ? undefined : { status: 'unavailable', reason };
  }),
  v8: inNode('v8', "the module unmodified on Node's V8, with node:wasi", 1000, () => undefined),
  wasm3: outside('wasm3', 'the wasm3 interpreter, when on PATH', 100),
  iwasm: outside('iwasm', 'WAMR (iwasm), when on PATH', 100),
};
