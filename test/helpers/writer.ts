/**
 * The writer test program (test/programs/src/writer.c), a job that keeps rewriting its
 * memory, run here in this process to know what a job running it elsewhere must print.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// The native tier registers itself when imported.
import '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { repoRoot } from './cli.ts';

export const writerPath = resolve(repoRoot, 'test/programs/writer.wasm');

/** Runs writer with `args` (argv[0] excluded) on the native tier, without pacing (the output is the same); its stdout. */
export function writerOutput(args: string[]): string {
  const out: Uint8Array[] = [];
  const program = Program.instantiate(loadModule(readFileSync(writerPath)), {
    args: ['writer.wasm', ...args, 'pace=0'], tier: 'native', stdout: (d) => { out.push(d); }, stderr: () => {},
  });
  program.start('_start');
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  if (outcome.kind === 'exited' && outcome.status !== 0) throw new Error(`writer ${args.join(' ')} ended with ${JSON.stringify(outcome)}`);
  return Buffer.concat(out).toString();
}
