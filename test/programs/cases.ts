/**
 * The WASI test-program corpus as a table: which module to run, with which
 * argv, environment, stdin and preopened directories, and what must come out.
 * Shared by the node:wasi reference check (`corpus.test.ts`), wasmig's own
 * WASI tests and the interpreter-vs-native differential tests.
 *
 * Conventions every runner of these cases follows:
 * - argv is `[case.program, ...case.args]` (see {@link argvOf});
 * - the environment is exactly `case.env`, nothing inherited;
 * - stdin is `case.stdin`, or empty when undefined;
 * - each case gets a fresh temp root laid out by `test/helpers/program-fixture.ts`
 *   from `dirs` and `setup`; `expected.files` / `expected.absent` are paths
 *   relative to that root, checked after the run;
 * - a trap is reported as status {@link TRAP_STATUS} with `expected.trap` set.
 *
 * Rebuild the modules with `tools/build-test-programs.sh`; sources are in `src/`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TRAP_STATUS } from '../helpers/node-wasi-reference.ts';
import type { PreopenSpec, SetupEntry } from '../helpers/program-fixture.ts';

export type { PreopenSpec, SetupEntry } from '../helpers/program-fixture.ts';

/** Status a runner reports for a trap (as wasmtime's CLI does); `trap: true` in the expectation tells it from exit(134). */
export { TRAP_STATUS };

/** The exact outcome a case must have on any correct WASI preview1 runtime. */
export interface ExactExpectation {
  readonly stdout: string | Uint8Array;
  readonly status: number;
  /** The run must end in a trap (status is then {@link TRAP_STATUS}). */
  readonly trap?: boolean;
  /** Text stderr must contain (stderr is otherwise not compared). */
  readonly stderrIncludes?: string;
  /** Root-relative files that must exist afterwards, with their exact contents. */
  readonly files?: Readonly<Record<string, string>>;
  /** Root-relative paths that must not exist afterwards. */
  readonly absent?: readonly string[];
}

/**
 * No fixed expectation: the outcome (stdout, status, trap) must equal what
 * Node's own engine with node:wasi gives for the same case.  Used for long or
 * heavy variants whose output is deterministic but not worth checking in.
 */
export interface ReferenceExpectation {
  readonly reference: 'node';
}

/** Where node:wasi is known to differ from the exact expectation, and why. */
export interface NodeDeviation {
  readonly reason: string;
  readonly stdout: string;
  readonly status: number;
}

/** One run of one test program. */
export interface ProgramCase {
  /** Unique case name. */
  readonly name: string;
  /** What the case is for. */
  readonly purpose: string;
  /** The program's name: argv[0], and `NAME.wasm` in this folder. */
  readonly program: string;
  /** Absolute path of the module. */
  readonly wasm: string;
  /** argv after argv[0]. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string | Uint8Array | undefined;
  /** Directories to preopen, each a path under the case's fresh temp root. */
  readonly dirs: readonly PreopenSpec[];
  /** What to create under the temp root before the run. */
  readonly setup?: readonly SetupEntry[];
  readonly expected: ExactExpectation | ReferenceExpectation;
  /** Set only where node:wasi itself gets the case wrong. */
  readonly nodeDeviation?: NodeDeviation;
  /**
   * Set only where `wasmig run` on its default tier gives another outcome than
   * `expected`, which the interpreter and the rewritten module give: its plain module
   * runs on V8's own stack, as node:wasi does (docs/native-tier.md).
   */
  readonly defaultRun?: { readonly reason: string; readonly expected: ExactExpectation };
}

/** The full argv a runner passes: `[program, ...args]`. */
export function argvOf(c: ProgramCase): string[] {
  return [c.program, ...c.args];
}

/** Whether a case has a fixed expectation rather than "same as node:wasi". */
export function isExact(e: ExactExpectation | ReferenceExpectation): e is ExactExpectation {
  return !('reference' in e);
}

const here = new URL('./', import.meta.url);
const wasmOf = (program: string): string => fileURLToPath(new URL(`${program}.wasm`, here));
const golden = (name: string): string => readFileSync(new URL(`expected/${name}.stdout`, here), 'utf8');

/** A case with the defaults: no args, no env, no stdin, no preopens. */
function make(c: Omit<ProgramCase, 'wasm' | 'args' | 'env' | 'stdin' | 'dirs'> & Partial<ProgramCase>): ProgramCase {
  return {
    wasm: wasmOf(c.program),
    args: [],
    env: {},
    stdin: undefined,
    dirs: [],
    ...c,
  };
}

/** 256 KiB holding every byte value many times, NULs, 0xff, CR and LF included. */
function binaryInput(): Uint8Array {
  const bytes = new Uint8Array(256 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

function manyLines(n: number): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`line ${i}: ${'abcdefghij'.repeat(i % 13)}`);
  return lines.join('\n') + '\n';
}

const exitCase = (status: number, args: string[]): ProgramCase =>
  make({
    name: `exit_code_${status}`,
    purpose: `proc_exit(${status}) after output; ${args.length === 0 ? 'the default status' : 'status from argv[1]'}`,
    program: 'exit_code',
    args,
    expected: { stdout: `exiting with ${status}\n`, status },
  });

/** The sandbox layout: ROOT/box is preopened as "."; ROOT/outside.txt must stay out of reach. */
const sandboxSetup: readonly SetupEntry[] = [
  { kind: 'file', path: 'outside.txt', content: 'SECRET\n' },
  { kind: 'file', path: 'box/inside.txt', content: 'inside\n' },
  { kind: 'dir', path: 'box/sub' },
  { kind: 'symlink', path: 'box/link_in', target: 'inside.txt' },
  { kind: 'symlink', path: 'box/link_out', target: '../outside.txt' },
  { kind: 'symlink', path: 'box/link_abs', target: '/etc/passwd' },
  { kind: 'symlink', path: 'box/link_up', target: '..' },
];

/** Every case of the corpus. */
export const programCases: readonly ProgramCase[] = [
  make({
    name: 'hello',
    purpose: 'the smallest program: one fd_write to stdout, return from _start',
    program: 'hello',
    expected: { stdout: 'Hello, wasmig!\n', status: 0 },
  }),
  make({
    name: 'args_env',
    purpose: 'args_get/environ_get with spaces, an empty argument, UTF-8, "=" in a value',
    program: 'args_env',
    args: ['one', 'two words', '', 'ünïcödé ✓', '--flag=x'],
    env: { WASMIG_GREETING: 'hello there', WASMIG_EMPTY: '', HOME: '/home/wasm', OTHER: 'a=b=c' },
    expected: {
      stdout:
        'argc=6\nargv[0]=[args_env]\nargv[1]=[one]\nargv[2]=[two words]\nargv[3]=[]\n' +
        'argv[4]=[ünïcödé ✓]\nargv[5]=[--flag=x]\nenviron entries=4\n' +
        'WASMIG_GREETING=[hello there]\nWASMIG_EMPTY=[]\nHOME=[/home/wasm]\nWASMIG_UNSET (unset)\n',
      status: 0,
    },
  }),
  make({
    name: 'args_env_empty',
    purpose: 'no arguments beyond argv[0] and an empty environment',
    program: 'args_env',
    expected: {
      stdout:
        'argc=1\nargv[0]=[args_env]\nenviron entries=0\n' +
        'WASMIG_GREETING (unset)\nWASMIG_EMPTY (unset)\nHOME (unset)\nWASMIG_UNSET (unset)\n',
      status: 0,
    },
  }),
  make({
    name: 'file_io',
    purpose: 'the file-system calls in a temp dir preopened as "."; reads a file the host made, leaves result.txt',
    program: 'file_io',
    dirs: [{ guest: '.', host: '' }],
    setup: [{ kind: 'file', path: 'input.txt', content: 'made by the host\n' }],
    expected: {
      stdout: golden('file_io'),
      status: 0,
      files: { 'input.txt': 'made by the host\n', 'result.txt': 'file_io was here\n' },
      absent: ['work'],
    },
  }),
  make({
    name: 'file_io_abs',
    purpose: 'two preopens ("." and "/data"); the program works in /data by absolute path, "." is untouched',
    program: 'file_io',
    args: ['/data'],
    dirs: [
      { guest: '.', host: 'cwd' },
      { guest: '/data', host: 'data' },
    ],
    expected: {
      stdout: golden('file_io_abs'),
      status: 0,
      files: { 'data/result.txt': 'file_io was here\n' },
      absent: ['cwd/result.txt', 'cwd/work', 'data/work'],
    },
  }),
  make({
    name: 'clocks',
    purpose: 'clock_time_get/clock_res_get on all four clocks, poll_oneoff sleeps (10 ms, 5 ms on the realtime clock)',
    program: 'clocks',
    expected: {
      stdout: [
        'realtime ok',
        'time ok',
        'gettimeofday ok',
        'monotonic ok',
        'process cputime ok',
        'thread cputime ok',
        'resolution ok',
        'nanosleep 10ms elapsed >= 9ms ok',
        'nanosleep 10ms elapsed < 5s ok',
        'clock_nanosleep 5ms elapsed >= 4ms ok',
        'clocks: 0 failures',
        '',
      ].join('\n'),
      status: 0,
    },
  }),
  make({
    name: 'random',
    purpose: 'random_get: non-zero, distinct draws, every byte value; the 256-byte getentropy limit',
    program: 'random',
    expected: {
      stdout: [
        'getentropy 256 bytes ok',
        'getentropy 256 bytes again ok',
        'not all zero ok',
        'two draws differ ok',
        'no write past the buffer ok',
        'all 256 byte values seen in 64 KiB ok',
        'getentropy 257 bytes: EIO',
        'getentropy over 256 bytes fails ok',
        'random: 0 failures',
        '',
      ].join('\n'),
      status: 0,
    },
  }),
  make({
    name: 'cat_text',
    purpose: 'fd_read from stdin to EOF, fd_write to stdout, fd_write to stderr',
    program: 'cat',
    stdin: 'hello\nworld\n',
    expected: { stdout: 'hello\nworld\n', status: 0, stderrIncludes: 'cat: 12 bytes' },
  }),
  make({
    name: 'cat_binary',
    purpose: '256 KiB of binary stdin (NUL, 0xff, CR, LF) comes out unchanged, over several reads',
    program: 'cat',
    stdin: binaryInput(),
    expected: { stdout: binaryInput(), status: 0, stderrIncludes: 'cat: 262144 bytes' },
  }),
  make({
    name: 'cat_empty',
    purpose: 'an empty stdin is an immediate EOF',
    program: 'cat',
    expected: { stdout: '', status: 0, stderrIncludes: 'cat: 0 bytes' },
  }),
  make({
    name: 'stdin_lines',
    purpose: 'stdio line reading (getline), an empty line and a last line without newline, realloc',
    program: 'stdin_lines',
    stdin: 'first\nsecond line\n\nfourth, with no newline',
    expected: {
      stdout: '   4 (23): fourth, with no newline\n   3 (0): \n   2 (11): second line\n   1 (5): first\n4 lines\n',
      status: 0,
    },
  }),
  make({
    name: 'stdin_lines_empty',
    purpose: 'no stdin at all',
    program: 'stdin_lines',
    expected: { stdout: '0 lines\n', status: 0 },
  }),
  make({
    name: 'stdin_lines_many',
    purpose: '3,000 lines (about 180 KB) through stdio buffering; output must match node:wasi',
    program: 'stdin_lines',
    stdin: manyLines(3000),
    expected: { reference: 'node' },
  }),
  make({
    name: 'bigmem',
    purpose: 'memory.grow to about 256 MiB through malloc, every page written and read back',
    program: 'bigmem',
    expected: {
      stdout:
        'allocated 256 MiB, touching every 4096 bytes\npattern ok\nchecksum 370be6e7c6f4c9c8\nlast byte 0\nsmall allocation ok\n',
      status: 0,
    },
  }),
  make({
    name: 'bigmem_full',
    purpose: '32 MiB with every 64-bit word written and read back; output must match node:wasi',
    program: 'bigmem',
    args: ['32', 'full'],
    expected: { reference: 'node' },
  }),
  make({
    name: 'recursion',
    purpose: '100,000 nested calls, each with a linear-memory stack frame; mutual recursion via call_indirect',
    program: 'recursion',
    expected: { stdout: 'depth 100000\nsum 214750756107840\nis_even(50001) = 0\n', status: 0 },
    defaultRun: {
      reason: "a plain module's calls use V8's stack (10,000-20,000 frames of these), as under node:wasi; --tier native and interp allow 200,000",
      expected: {
        stdout: 'depth 100000\n',
        status: TRAP_STATUS,
        stderrIncludes: "wasmig: exhausted: call stack exhausted (the host's stack, as under node:wasi; --tier native goes up to 200,000 calls deep)\n",
      },
    },
  }),
  make({
    name: 'recursion_shallow',
    purpose: 'the same code 1,000 deep, for engines still growing their stacks',
    program: 'recursion',
    args: ['1000'],
    expected: { reference: 'node' },
  }),
  make({
    name: 'qsort_printf',
    purpose: 'f64/f32 arithmetic, qsort via call_indirect, printf %f %e %g %.17g %a, strtod round trips, libm',
    program: 'qsort_printf',
    expected: { stdout: golden('qsort_printf'), status: 0 },
  }),
  make({
    name: 'memcopy',
    purpose: 'memory.copy/memory.fill (built with -mbulk-memory): overlapping moves, odd sizes, checksum',
    program: 'memcopy',
    expected: {
      stdout: 'rounds 200\nchecksum a2fb10fcb644d454\nother 2469b722f7cd0383\nprobe 3143d6758e24248f\n',
      status: 0,
    },
  }),
  make({
    name: 'memcopy_long',
    purpose: '2,000 rounds of the same; output must match node:wasi',
    program: 'memcopy',
    args: ['2000'],
    expected: { reference: 'node' },
  }),
  make({
    name: 'simd',
    purpose: 'SIMD kernels (built with -msimd128): wasm_simd128.h intrinsics (i32 dot product, 4x4 f32 matrix product, saturating bytes with a shuffle and a bitmask, f64x2 polynomial) and loops clang vectorizes',
    program: 'simd',
    expected: {
      stdout: 'rounds 50\nchecksum 22b59773356726fa\nfloats 8681b403 doubles 442abac09f390645\n'
        + 'matrix 0x1.5e5318p-19 0x1.9e507cp-20 0x1.55f494p-18 0x1.9b150cp-19\ndot 618246477\n',
      status: 0,
    },
  }),
  make({
    name: 'simd_long',
    purpose: '200 rounds of the same; output must match node:wasi',
    program: 'simd',
    args: ['200'],
    expected: { reference: 'node' },
  }),
  make({
    name: 'musttail',
    purpose: 'a bytecode interpreter whose handlers dispatch by musttail calls through a table (built with -mtail-call: return_call_indirect), 90,007 tail calls; node:wasi runs it (Node 20\'s V8 11.3 validates tail calls by default)',
    program: 'musttail',
    expected: { stdout: 'rounds 10000: 90007 handler tail calls, result 2c3115cec0334af9\n', status: 0 },
  }),
  make({
    name: 'cxx_exceptions',
    purpose: 'C++ exceptions (-fwasm-exceptions: the legacy try, catch, catch_all, rethrow) thrown three frames below their handler, through frames whose destructors run on the way; 200 of 300 calls throw',
    program: 'cxx_exceptions',
    expected: { stdout: 'sum 89700, caught 200, destroyed 374850\n', status: 0 },
  }),
  make({
    name: 'vectorize',
    purpose: 'auto-vectorized loops (plain C at -O3 -msimd128): i32 and widened i16 dot products, a 3x3 box blur, 4x4 matrix products over an array, byte SAD, clamps, conversions, saxpy, byte min/max',
    program: 'vectorize',
    expected: {
      stdout: 'rounds 20\nchecksum 4056727d634774f8\ndot 1203909422 -5037183\npixels 161 229 sad 782704\n'
        + 'matrix 0x1.0f0448p-9 0x1.150c04p-10 -0x1.bce71ep-8 0x1.713696p-7\nfloats -0x1.c5f1bp+2 -0x1.0f61dp+1\n',
      status: 0,
    },
  }),
  make({
    name: 'vectorize_long',
    purpose: '100 rounds of the same; output must match node:wasi',
    program: 'vectorize',
    args: ['100'],
    expected: { reference: 'node' },
  }),
  exitCase(3, []),
  exitCase(0, ['0']),
  exitCase(42, ['42']),
  exitCase(255, ['255']),
  make({
    name: 'trap',
    purpose: '`unreachable` after flushed output: the output survives, the run ends in a trap',
    program: 'trap',
    expected: { stdout: 'about to trap\n', status: TRAP_STATUS, trap: true },
  }),
  make({
    name: 'sandbox',
    purpose: 'escapes from the preopen ("..", absolute paths, symlinks out, a symlink to "..") are all refused',
    program: 'sandbox',
    dirs: [{ guest: '.', host: 'box' }],
    setup: sandboxSetup,
    expected: {
      stdout: golden('sandbox'),
      status: 0,
      files: { 'outside.txt': 'SECRET\n', 'box/inside.txt': 'inside\n' },
      absent: ['created.txt', 'escaped_dir', 'moved.txt', 'box/made_abs', 'box/made_out', 'box/made_up'],
    },
    nodeDeviation: {
      reason:
        'node:wasi (uvwasi) follows a symlink to ".." in a middle path component out of the preopen: ' +
        '"link_up/outside.txt" opens and "link_up/created.txt" is created outside the sandbox',
      stdout: golden('sandbox.node'),
      status: 1,
    },
  }),
  make({
    name: 'sandbox_errnos',
    purpose:
      'the same escapes with -v: each must fail with the right errno, ENOTCAPABLE for every way out; ' +
      'ENOENT for "/etc/passwd" and "/outside.txt", which wasi-libc resolves inside "." as "etc/passwd" and "outside.txt"; ' +
      'a symlink with an absolute target cannot be made (ENOTCAPABLE), relative ones pointing out can, but never be followed',
    program: 'sandbox',
    args: ['-v'],
    dirs: [{ guest: '.', host: 'box' }],
    setup: sandboxSetup,
    expected: {
      stdout: golden('sandbox_errnos'),
      status: 0,
      files: { 'outside.txt': 'SECRET\n', 'box/inside.txt': 'inside\n' },
      absent: ['created.txt', 'escaped_dir', 'moved.txt', 'box/made_abs', 'box/made_out', 'box/made_up'],
    },
    nodeDeviation: {
      reason:
        'node:wasi escapes through link_up as in "sandbox", answers ENOENT for link_abs (it resolves the absolute ' +
        'target inside the preopen), and refuses to create symlinks pointing out (EPERM, ENOTCAPABLE)',
      stdout: golden('sandbox_errnos.node'),
      status: 1,
    },
  }),
];
