import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentLoad, AgentStatus } from '../../src/agent/messages.ts';
import { chooseStandbys } from '../../src/agent/replication-source.ts';

function agent(name: string, jobs: number, fields: Partial<AgentStatus> = {}): AgentStatus & { load?: AgentLoad } {
  return {
    v: 1, agent: name, instance: `${name}-i`, online: true, dirs: ['data'], ...fields,
    load: { v: 1, agent: name, instance: `${name}-i`, at: '', cpu: 0, loadavg: [], rss: 0, memFree: 0, memTotal: 0, jobs, running: jobs },
  };
}

test('standbys: online agents other than the owner, with the job\'s directories, least loaded first, by name on a tie', () => {
  const fleet = [agent('a', 0), agent('b', 3), agent('c', 1), agent('d', 1), agent('off', 0, { online: false }), agent('nodir', 0, { dirs: [] })];
  assert.equal(chooseStandbys(fleet, 'a', 2, [], ['data']), ['c', 'd']);
  assert.equal(chooseStandbys(fleet, 'c', 1, [], ['data']), ['a']);
  assert.equal(chooseStandbys(fleet, 'a', 1, [], []), ['nodir']);
  assert.equal(chooseStandbys(fleet, 'a', 8, [], ['data']), ['c', 'd', 'b'], 'fewer than asked when no more can hold one');
});

test('a new owner keeps the job\'s standbys before it looks for others', () => {
  const fleet = [agent('a', 0), agent('b', 5), agent('c', 0)];
  assert.equal(chooseStandbys(fleet, 'c', 1, ['b'], []), ['b']);
  assert.equal(chooseStandbys(fleet, 'b', 1, ['b'], []), ['a'], 'never itself');
});

test.run();
