/**
 * The reference engine for WASI programs: Node's own WebAssembly engine (V8)
 * with `node:wasi` (preview1), run in a child process so that a program's
 * proc_exit, trap, stdin and stdout cannot touch the test runner.
 *
 * The child is `node-wasi-child.mjs` beside this file; it reports the outcome
 * as JSON on an extra pipe (fd 3), so the program's own stdout and stderr
 * arrive byte for byte.
 *
 * Caveats (measured with Node 20.20, uvwasi 0.0.23): node:wasi does not claim to
 * be a security sandbox, and a symlink to ".." inside a preopened directory
 * lets a program reach files outside it; and with V8's fast API calls on, a
 * program that grows memory and then calls WASI can crash Node (so the child
 * runs with them off).  See test/programs/README.md.
 *
 * @see https://nodejs.org/api/wasi.html
 * @see https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

/**
 * The status reported for a trap. 134 is what a POSIX shell shows for a
 * process killed by SIGABRT, and what wasmtime's CLI uses; since a program may
 * also exit with 134 itself, {@link ReferenceResult.trap} tells the two apart.
 */
export const TRAP_STATUS = 134;

/** Options of {@link runWithNodeWasi}. */
export interface ReferenceOptions {
  /** The full argv, argv[0] included (node:wasi passes it through as given). */
  readonly args?: readonly string[];
  /** The environment the program sees; nothing is inherited from the host. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes for the program's stdin; when absent, stdin is empty (/dev/null). */
  readonly stdin?: string | Uint8Array;
  /** Preopened directories: guest path (e.g. "." or "/data") to host path. */
  readonly preopens?: Readonly<Record<string, string>>;
  /** V8 stack size of the thread that runs the module, in MiB (default 64). */
  readonly stackSizeMb?: number;
  /** Kill the child after this many milliseconds (default 30,000). */
  readonly timeoutMs?: number;
}

/** What a program did under the reference engine. */
export interface ReferenceResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** The proc_exit status (0 when `_start` returned), or {@link TRAP_STATUS} on a trap. */
  readonly status: number;
  /** The engine's message when the program trapped ("unreachable", ...), else undefined. */
  readonly trap: string | undefined;
}

type Outcome =
  | { readonly kind: 'exit'; readonly status: number }
  | { readonly kind: 'trap'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

/**
 * A V8 that validates tail calls only behind a flag gets it; where WebAssembly takes them
 * already (Node 20's V8 11.3 does by default), no flag (a newer V8 may not know it). The
 * probe once lacked its `end`, so it never validated and the flag was always added.
 */
const TAIL_CALL_FLAG: readonly string[] = WebAssembly.validate(new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 6, 1, 4, 0, 0x12, 0, 0x0b, // (func (return_call 0))
])) ? [] : ['--experimental-wasm-return-call'];

const childScript = fileURLToPath(new URL('./node-wasi-child.mjs', import.meta.url));

function collect(stream: Readable | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (stream === null) {
      resolve(Buffer.alloc(0));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * Runs a WASI preview1 command module under Node's engine and node:wasi in a
 * child process, and resolves with its stdout, stderr and exit status.
 * Rejects when the module cannot run at all (it does not decode, link or
 * start), when the child dies without a report, or on timeout.
 */
export async function runWithNodeWasi(wasmPath: string, options: ReferenceOptions = {}): Promise<ReferenceResult> {
  const config = {
    wasm: wasmPath,
    args: options.args ?? [wasmPath],
    env: options.env ?? {},
    preopens: options.preopens ?? {},
    stackSizeMb: options.stackSizeMb ?? 64,
  };
  // --no-turbo-fast-api-calls: with V8's fast API calls, Node 20's node:wasi
  // can use a stale view of linear memory after memory.grow and crash with
  // SIGSEGV (nodejs/node#51303, #53087); the slow path reads the live memory.
  const child = spawn(process.execPath, ['--no-warnings', '--no-turbo-fast-api-calls', ...TAIL_CALL_FLAG, childScript, JSON.stringify(config)], {
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'],
    env: {},
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);

  if (options.stdin !== undefined && child.stdin !== null) {
    // A program that stops reading early closes the pipe: that is not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(typeof options.stdin === 'string' ? Buffer.from(options.stdin, 'utf8') : options.stdin);
  }
  const reportStream = child.stdio[3] as Readable | null;
  const [stdout, stderr, report, [code, signal]] = await Promise.all([
    collect(child.stdout),
    collect(child.stderr),
    collect(reportStream),
    new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve([c, s]));
    }),
  ]);
  clearTimeout(timer);

  if (timedOut) {
    throw new Error(`node:wasi reference: ${wasmPath} did not finish within ${timeoutMs} ms`);
  }
  let outcome: Outcome;
  try {
    outcome = JSON.parse(report.toString('utf8')) as Outcome;
  } catch (cause) {
    throw new Error(
      `node:wasi reference: the child gave no outcome for ${wasmPath} (exit code ${code}, signal ${signal}): ` +
        stderr.toString('utf8').slice(0, 2000),
      { cause },
    );
  }
  switch (outcome.kind) {
    case 'exit':
      return { stdout, stderr, status: outcome.status, trap: undefined };
    case 'trap':
      return { stdout, stderr, status: TRAP_STATUS, trap: outcome.message };
    case 'error':
      throw new Error(`node:wasi reference: could not run ${wasmPath}: ${outcome.message}`);
  }
}
