/**
 * The `WebAssembly.Memory` behind a linear memory: shared (its buffer a
 * `SharedArrayBuffer`) wherever the host allows, so that growing it never detaches a buffer.
 *
 * Why it matters: V8 keeps one "array buffer detaching" protector per isolate. While no
 * `ArrayBuffer` of the process has ever been detached, optimized code reads typed arrays
 * and DataViews without asking whether their buffer is detached; the first detach (a
 * non-shared memory's `grow`, a buffer moved by `postMessage`) turns that off for good,
 * and from then on every typed-array access of the run loops loads and tests the
 * buffer's flag: CoreMark ran slower on the interpreter (docs/interpreter-speed.md).
 * A shared memory grows in place; its old `buffer` stays valid (shorter), so the views
 * are replaced when `memory.buffer` changes (`refreshMemoryViews`), as before.
 *
 * A shared memory needs a maximum: the declared one, or the host's limit (no bigger
 * reservation than a non-shared memory's on 64-bit hosts, where V8 reserves 4 GiB and
 * its guard pages for each memory anyway). The native tier's rewrite imports it as
 * shared (`sharedMemory`, see native/rewrite.ts). Memory64 memories, and hosts without
 * `SharedArrayBuffer` (a browser page that is not cross-origin isolated) or refusing the
 * reservation (32-bit ones), keep non-shared memories, which work as before.
 */

/** Whether this host makes shared memories (probed once, with the largest maximum used). */
export const MEMORIES_SHARED: boolean = probeSharedMemory();

function probeSharedMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 0, maximum: 65536, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * A new memory of `initial` pages. `declaredMax`: the maximum the module declares (as the
 * host holds it); `hostLimit`: the pages this memory may ever reach (declared maximum,
 * host and embedder limits together), the maximum of a shared memory.
 */
export function newMemoryObject(initial: number, declaredMax: number | undefined, hostLimit: number, index64 = false): WebAssembly.Memory {
  if (MEMORIES_SHARED && !index64) {
    try {
      return new WebAssembly.Memory({ initial, maximum: Math.min(declaredMax ?? hostLimit, hostLimit), shared: true });
    } catch {
      // A reservation this host refuses: a non-shared memory, as below.
    }
  }
  return new WebAssembly.Memory(declaredMax === undefined ? { initial } : { initial, maximum: declaredMax });
}

/** Whether `memory` is shared (the native tier's rewrite must import it so). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}
