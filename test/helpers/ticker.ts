/**
 * The ticker test program (test/programs/src/ticker.c) run here, in this process, to
 * know what a job running it elsewhere must print.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModule, Program } from '../../src/program/index.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { repoRoot } from './cli.ts';

export const tickerPath = resolve(repoRoot, 'test/programs/ticker.wasm');

export interface Outcome {
  stdout: string;
  stderr: string;
  status: number;
}

/** Runs ticker with `args` (argv[0] excluded) and `/ctl` a directory where its gate file (`gate=/ctl/NAME`) exists. */
export function tickerOutput(args: string[]): Outcome {
  const ctl = mkdtempSync(join(tmpdir(), 'wasmig-ticker-'));
  const gate = args.find((a) => a.startsWith('gate=/ctl/'))?.slice('gate=/ctl/'.length);
  if (gate) {
    mkdirSync(join(ctl, gate, '..'), { recursive: true });
    writeFileSync(join(ctl, gate), '');
  }
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const wasi = new WasiHost({
    args: ['ticker.wasm', ...args], env: {}, preopens: [{ host: ctl, guest: '/ctl' }],
    stdout: (d) => { out.push(d); }, stderr: (d) => { err.push(d); },
  });
  const program = Program.withWasi(loadModule(readFileSync(tickerPath)), wasi);
  program.start('_start');
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  wasi.close();
  return {
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    status: outcome.kind === 'exited' ? outcome.status : 0,
  };
}
