/**
 * The unit and integration tests (uvu), with one thing uvu leaves out: after the last
 * test, a process that does not end by itself is a failure, not a hang. uvu sets the
 * exit code and waits for the event loop to drain; a server, worker, port or timer that
 * a test forgot keeps it waiting for ever (CI once sat for an hour after "Passed: 1021").
 * Here the suite gets 90 s to drain (a test that leaves a timer of a minute delays the
 * end, a leak that never ends fails it), then whatever still holds it is listed,
 * one line each, and the process exits 1.
 *
 * Node lists servers, sockets, ports and children, not timers: `WASMIG_TEST_OPEN_TRACE=1`
 * also records where each timer and handle was made, and names the ones still there.
 *
 * Usage: npx tsx tools/test-unit.ts [dir] [pattern]   (as `uvu [dir] [pattern]`)
 */
import { createHook } from 'node:async_hooks';
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';

const drainMs = 90_000;

/** One line for what holds the event loop open. */
function describe(handle: unknown): string {
  const h = handle as Record<string, unknown> & { constructor?: { name?: string } };
  const name = h.constructor?.name ?? typeof handle;
  const details: string[] = [];
  try {
    const address = typeof h.address === 'function' ? (h.address as () => unknown).call(h) : undefined;
    if (address) details.push(`listening on ${JSON.stringify(address)}`);
  } catch { /* not a server */ }
  if (typeof h.remotePort === 'number') details.push(`connected to ${String(h.remoteAddress)}:${h.remotePort}`);
  if (typeof h.pid === 'number') details.push(`child process ${h.pid} (${((h.spawnargs as string[] | undefined) ?? []).join(' ').slice(0, 120)})`);
  if (typeof h.threadId === 'number') details.push(`worker thread ${h.threadId}`);
  if (typeof h._onTimeout === 'function') details.push(`timer: ${String(h._onTimeout).replace(/\s+/g, ' ').slice(0, 120)}`);
  return details.length > 0 ? `${name}: ${details.join(', ')}` : name;
}

/** Where each live async resource was made (only with WASMIG_TEST_OPEN_TRACE=1). */
const madeAt = new Map<number, { type: string; stack: string; resource: object }>();
if (process.env.WASMIG_TEST_OPEN_TRACE === '1') {
  createHook({
    init(id, type, _trigger, resource) {
      if (type === 'PROMISE') return;
      const stack = (new Error().stack ?? '').split('\n').slice(2).filter((l) => !l.includes('node:internal') && !l.includes('node_modules')).slice(0, 6).join('\n      ');
      madeAt.set(id, { type, stack, resource });
    },
    destroy(id) { madeAt.delete(id); },
  }).enable();
}

const [dir = 'test', pattern = '\\.test\\.ts$'] = process.argv.slice(2);
const { suites } = await parse(dir, pattern, { cwd: process.cwd() });
await run(suites, { bail: false });
setTimeout(() => {
  const stdio = new Set<unknown>([process.stdin, process.stdout, process.stderr]);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => !stdio.has(h));
  process.stderr.write(`\ntest-unit: the tests passed or failed as printed above, but ${drainMs / 1000} s after the last one the process was still held open (a test left something behind):\n`);
  for (const handle of handles) process.stderr.write(`  ${describe(handle)}\n`);
  const resources = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();
  process.stderr.write(`  resources Node counts: ${resources.join(', ') || 'none'}\n`);
  for (const { type, stack, resource } of madeAt.values()) {
    const held = (resource as { hasRef?: () => boolean }).hasRef?.();
    if (held === false || stack === '') continue;
    process.stderr.write(`  ${type}${held ? ' (holds the process)' : ''}, made at\n      ${stack}\n`);
  }
  if (handles.length === 0) process.stderr.write('  (none that Node lists: a pending request or a native add-on\'s)\n');
  process.exit(1);
}, drainMs).unref();
