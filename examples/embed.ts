/**
 * wasmig embedded in an edge agent of your own: a program with an embedder import,
 * run in budgets, paused from a host function, snapshotted with the embedder's own
 * state, and resumed from the snapshot alone, as another device would.
 *
 * Run it from a checkout: npx tsx examples/embed.ts
 * (In your project, import from 'wasmig' instead of '../src/index.ts'.)
 */
import { readFileSync } from 'node:fs';
import { loadModule, Program } from '../src/index.ts';
import type { ProgramOptions } from '../src/index.ts';

const compiled = loadModule(readFileSync(new URL('squares.wasm', import.meta.url)));

/** The embedder's side: env.report(step, sum) gets plain values (i32 a number, i64 a bigint). */
function embedder(label: string, onReport: (step: number) => void): { imports: ProgramOptions['imports']; reports: () => number; start: (n: number) => void } {
  let reports = 0;
  return {
    imports: {
      env: {
        report: (step: number, sum: bigint) => {
          reports++;
          console.log(`${label}: step ${step}, sum of squares ${sum}`);
          onReport(step);
        },
      },
    },
    reports: () => reports,
    start: (n) => { reports = n; },
  };
}

// Device A: run in budgets of 100,000 instructions; after the second report, ask for a pause.
let program: Program;
const a = embedder('device A', (step) => { if (step === 200_000) program.requestPause(); });
program = Program.instantiate(compiled, { args: ['squares'], imports: a.imports });
program.registerHostState('reports', a.reports); // travels with every snapshot

let outcome = program.run({ budget: 100_000 });
let slices = 1;
while (outcome.kind === 'paused' && a.reports() < 2) {
  outcome = program.run({ budget: 100_000 });
  slices++;
}
console.log(`device A: paused after ${outcome.kind === 'paused' ? outcome.instructions : '?'} instructions (${slices} slices)`);

// The snapshot: the whole machine, the module and the embedder's state, as bytes.
const snapshot = program.snapshot({ embedModule: true });
console.log(`device A: snapshot of ${snapshot.length} bytes`);

// Device B: the snapshot alone is enough (the module is embedded); the embedder brings its imports.
const b = embedder('device B', () => {});
const resumed = Program.resume(snapshot, { imports: b.imports });
b.start(resumed.hostState['reports'] as number);
console.log(`device B: resumed with ${b.reports()} reports already made`);
console.log(`device B: ${JSON.stringify(resumed.run())}, ${b.reports()} reports in all`);
