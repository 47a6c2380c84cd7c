/**
 * Sizes this runtime holds, the same on every tier and at restore, so that a program
 * that runs on one tier can pause, move and resume on the other, and a snapshot one
 * tier wrote is one the other reads.
 *
 * Tables: V8's own bound on `WebAssembly.Table` (10,000,000 elements), taken for the
 * interpreter too rather than letting the interpreter hold more and the native tier
 * fall back: a job whose table only the interpreter could hold would be stuck there (no
 * tier-up, no resume on a native agent), and 10M elements is already 40 MB per table.
 * Memories: wasm32's 65,536 pages of 64 KiB (4 GiB), which V8 holds too.
 */
export const MAX_TABLE_ELEMENTS = 10_000_000;

/** The most pages a linear memory can have (wasm32: 4 GiB). */
export const MAX_MEMORY_PAGES = 65536;
