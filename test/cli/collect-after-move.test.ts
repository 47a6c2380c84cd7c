import { constants, PerformanceObserver } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectAfterMove } from '../../src/cli/collect-after-move.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('after a departure, the hook makes one full collection of the main thread, a moment later', async () => {
  const after = collectAfterMove(10);
  if (!after) {
    console.log('  skipped: this V8 gives no collector (--expose-gc)');
    return;
  }
  const majors: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    const called = performance.now();
    after();
    after(); // calls while one is pending share it
    for (let waited = 0; waited < 3000 && majors.length === 0; waited += 20) await sleep(20);
    assert.ok(majors.length >= 1, 'a full collection followed');
    assert.ok(majors[0] >= called + 5, 'not at once: after the delay');
  } finally {
    observer.disconnect();
  }
});

test.run();
