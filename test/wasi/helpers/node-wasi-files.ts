/**
 * The node:wasi reference run (test/helpers/node-wasi-child.mjs) with the program's
 * stdin, stdout and stderr on temp files instead of pipes.
 *
 * Why: node:wasi writes to its stdout fd without retrying EAGAIN, and Node leaves a pipe
 * non-blocking, so a program that writes faster than the parent reads loses output at
 * random (measured: stdin_lines_many gave 100 KB, 248 KB, 138 KB of 250 KB in three runs,
 * each with status 0). A regular file never says EAGAIN.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { TRAP_STATUS } from '../../helpers/node-wasi-reference.ts';

export interface FileReferenceOptions {
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  stdin?: string | Uint8Array;
  /** Guest name to host directory. */
  preopens?: Readonly<Record<string, string>>;
}

export interface FileReferenceResult {
  stdout: Buffer;
  stderr: Buffer;
  status: number;
  trap: string | undefined;
}

const childScript = fileURLToPath(new URL('../../helpers/node-wasi-child.mjs', import.meta.url));

/** Runs the module under node:wasi in a child process; see the file comment. */
export async function runNodeWasiWithFiles(wasmPath: string, options: FileReferenceOptions): Promise<FileReferenceResult> {
  const scratch = fs.mkdtempSync(path.join(tmpdir(), 'wasmig-node-ref-'));
  const file = (name: string) => path.join(scratch, name);
  fs.writeFileSync(file('stdin'), options.stdin ?? '');
  const fds = [fs.openSync(file('stdin'), 'r'), fs.openSync(file('stdout'), 'w'), fs.openSync(file('stderr'), 'w')];
  try {
    const config = { wasm: wasmPath, args: options.args, env: options.env ?? {}, preopens: options.preopens ?? {}, stackSizeMb: 64 };
    const child = spawn(process.execPath, ['--no-warnings', '--no-turbo-fast-api-calls', childScript, JSON.stringify(config)], {
      stdio: [fds[0]!, fds[1]!, fds[2]!, 'pipe'],
      env: {},
    });
    const report = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      (child.stdio[3] as Readable).on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    const outcome = JSON.parse(report) as { kind: 'exit'; status: number } | { kind: 'trap' | 'error'; message: string };
    if (outcome.kind === 'error') throw new Error(`node:wasi could not run ${wasmPath}: ${outcome.message}`);
    return {
      stdout: fs.readFileSync(file('stdout')),
      stderr: fs.readFileSync(file('stderr')),
      status: outcome.kind === 'exit' ? outcome.status : TRAP_STATUS,
      trap: outcome.kind === 'trap' ? outcome.message : undefined,
    };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
