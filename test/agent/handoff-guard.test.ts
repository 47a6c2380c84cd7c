/** One handoff per job at a time at the source (src/agent/handoff-guard.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HandoffGuard } from '../../src/agent/handoff-guard.ts';
import { MigrationError } from '../../src/errors/index.ts';

test('a second handoff of a job under way is refused with the reason; another job is not', () => {
  const guard = new HandoffGuard();
  const release = guard.claim('j', 'b', 'a');
  assert.throws(() => guard.claim('j', 'c', 'a'), (e: Error) => e instanceof MigrationError
    && e.message === 'a migration of job j to b is already under way at a; this one (to c) was refused');
  guard.claim('k', 'c', 'a');
  release();
  release(); // settling twice releases once
  const again = guard.claim('j', 'c', 'a');
  assert.throws(() => guard.claim('j', 'b', 'a'), /to c is already under way/);
  again();
});

test.run();
