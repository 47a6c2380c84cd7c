#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { DecodeError, ExhaustionError, ExitError, LinkError, Trap, UncaughtException, UsageError, ValidationError, WasmigError } from '../errors/index.ts';
import { formatBacktrace } from './format.ts';
import { COMMANDS, FLEET_HELP } from './commands/registry.ts';
import { raiseWasmTieringBudget } from './tiering-budget.ts';

const USAGE = `usage: wasmig COMMAND [ARGS...]

commands:
  run [OPTIONS] PROG.wasm [ARGS...]   run a WebAssembly program (WASI) or one of its exports
  resume [OPTIONS] SNAPSHOT           carry on a paused program from its snapshot
  inspect [--json] SNAPSHOT           show what a snapshot holds
  bench coremark [OPTIONS]            compare CoreMark on wasmig's tiers, V8, wasm3, iwasm
${FLEET_HELP}
  help [COMMAND]                      show help
  version                             print the version

'wasmig help run' explains the options of run.`;

/** Exit status after a trap: 128 + SIGABRT, as a native program that aborts. */
export const EXIT_TRAP = 134;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** The only place where errors become messages and exit codes. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined: case 'help': case '--help': case '-h': {
        const topic = rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? await COMMANDS[rest[0]]() : undefined;
        console.log(topic?.usage ?? USAGE);
        return 0;
      }
      case 'version': case '--version': case '-V':
        console.log(version());
        return 0;
      default: {
        if (!Object.hasOwn(COMMANDS, command) || command === 'run-on') throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        const cmd = await COMMANDS[command]();
        // `run` passes what follows the program to it, so only a --help before anything else is ours.
        const wantsHelp = command === 'run' ? rest[0] === '--help' || rest[0] === '-h' : rest.includes('--help') || rest.includes('-h');
        if (wantsHelp) { console.log(cmd.usage); return 0; }
        return await cmd.run(rest);
      }
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  const prefix = 'wasmig: ';
  if (error instanceof UsageError) {
    process.stderr.write(`${prefix}${error.message}\n`);
    return 2;
  }
  // proc_exit outside the entry point's run (in the module's start function): the program's status.
  if (error instanceof ExitError) return error.status;
  if (error instanceof UncaughtException) {
    // One line: the exception and where it was thrown (a C++ program that throws and never catches aborts the same way).
    const at = error.backtrace[0];
    const place = `function ${at?.funcIndex} at byte 0x${at?.offset.toString(16)}`;
    const where = at === undefined ? '' : ` thrown in ${at.name === undefined ? place : `${at.name} (${place})`}`;
    process.stderr.write(`${prefix}${error.message}${where}\n`);
    return EXIT_TRAP;
  }
  if (error instanceof Trap) {
    const kind = error instanceof ExhaustionError ? 'exhausted' : 'trap';
    process.stderr.write(`${prefix}${kind}: ${error.message}\n`);
    if (error.backtrace.length) process.stderr.write(`wasm backtrace:\n${formatBacktrace(error.backtrace)}\n`);
    return EXIT_TRAP;
  }
  if (error instanceof LinkError) {
    process.stderr.write(`${prefix}cannot link: ${error.message}\n`);
    return 1;
  }
  if (error instanceof DecodeError || error instanceof ValidationError || error instanceof WasmigError) {
    process.stderr.write(`${prefix}${error.message}\n`);
    return 1;
  }
  const e = error as NodeJS.ErrnoException;
  process.stderr.write(`${prefix}internal error: ${e?.stack ?? String(error)}\n`);
  return 70;
}

/**
 * The process's entry (`bin/wasmig.js`): runs the command and ends the process with its
 * status, the ordinary way (Node joins V8's compile threads first: ending sooner, with the
 * C library's `exit()`, was tried and crashed now and then; docs/native-tier.md).
 */
export async function runProcess(argv: readonly string[]): Promise<void> {
  // Before any module is compiled: a short run must not leave a queue of TurboFan jobs for the exit to wait on.
  const runsWasm = argv[0] === 'run' || argv[0] === 'resume';
  if (runsWasm) raiseWasmTieringBudget();
  const code = await main(argv);
  // exitCode, not exit(): a piped stdout is written asynchronously and must drain first.
  process.exitCode = code;
}

const invokedDirectly = process.argv[1] !== undefined && /[\\/]cli[\\/]main\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) void runProcess(process.argv.slice(2));
