// Loaded into an agent by the soak (`node --import`, through NODE_OPTIONS) when it runs with
// --memory-report: what only the process itself can read of its memory, written on demand.
// Plain JavaScript, not TypeScript: the agents run the built CLI with no loader, and a
// TypeScript loader in them would change the memory being measured.
//
// On SIGUSR2 the main thread appends one JSON line to $WASMIG_MEMORY_PROBE:
//   { pid, t, usage: process.memoryUsage(), spaces: { name: [size, used] } (main isolate),
//     workers: count, workerHeap: [committed, used] summed over the worker isolates,
//     threads: OS threads }
// and with WASMIG_MEMORY_PROBE_GC=1 also `live`: process.memoryUsage() after a full garbage
// collection of the main isolate (what its heap holds, not what it has yet to collect;
// the collection itself lowers the RSS that follows, so it is not on by default).
// The soak reads /proc/PID/smaps itself (another process can), and takes the line each
// signal adds (one file per agent).
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread } from 'node:worker_threads';

const out = process.env.WASMIG_MEMORY_PROBE;
if (isMainThread && out) {
  let gc;
  if (process.env.WASMIG_MEMORY_PROBE_GC === '1') {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc');
  }
  process.on('SIGUSR2', () => {
    const spaces = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = [s.space_size, s.space_used_size];
    // The diagnostic report asks every worker for its heap (each answers between two of its tasks).
    const report = process.report.getReport();
    const workerHeap = [0, 0];
    for (const w of report.workers ?? []) {
      workerHeap[0] += w.javascriptHeap?.totalMemory ?? 0;
      workerHeap[1] += w.javascriptHeap?.usedMemory ?? 0;
    }
    const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
    const line = { pid: process.pid, t: Date.now(), usage: process.memoryUsage(), spaces, workers: report.workers?.length ?? 0, workerHeap, threads };
    if (!gc) {
      appendFileSync(out, `${JSON.stringify(line)}\n`);
      return;
    }
    gc();
    // The heap's numbers are exact at once; the array buffers a collection freed leave
    // `arrayBuffers` a task later (measured: still all there right after gc()).
    setTimeout(() => appendFileSync(out, `${JSON.stringify({ ...line, live: process.memoryUsage() })}\n`), 100);
  });
}
