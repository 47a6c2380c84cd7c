import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeartbeatWatch } from '../../src/agent/heartbeat-watch.ts';
import type { AgentLoad } from '../../src/agent/messages.ts';
import type { Peer } from '../../src/agent/peer.ts';
import { topics } from '../../src/agent/topics.ts';

const s = suite('heartbeat watch');

/** The part of a Peer the watch uses: one subscription, delivered by hand. */
function fakePeer(): { peer: Peer; deliver: (load: Partial<AgentLoad> & { agent: string }) => void; subscribed: () => number } {
  let handler: ((topic: string, payload: Buffer) => void) | undefined;
  let subscriptions = 0;
  const peer = {
    link: { connected: true },
    connection: 1,
    listen: async (filters: string[], fn: (topic: string, payload: Buffer) => void) => {
      assert.equal(filters, [topics.allAgentLoad]);
      subscriptions++;
      handler = fn;
      return () => { subscriptions--; handler = undefined; };
    },
  } as unknown as Peer;
  const deliver = (load: Partial<AgentLoad> & { agent: string }): void => {
    const doc = { v: 1, instance: 'i1', at: '2026-01-01T00:00:00.000Z', cpu: 0, loadavg: [0, 0, 0], rss: 1, memFree: 1, memTotal: 1, jobs: 0, running: 0, heartbeatMs: 1000, ...load };
    handler?.(topics.agentLoad(load.agent), Buffer.from(JSON.stringify(doc)));
  };
  return { peer, deliver, subscribed: () => subscriptions };
}

s('hands each agent\'s heartbeats to its followers, and knows when others\' arrived', async () => {
  const { peer, deliver, subscribed } = fakePeer();
  const watch = new HeartbeatWatch(() => peer);
  const seen: string[] = [];
  const stop = watch.follow('owner', (load) => seen.push(load.at));
  await Promise.resolve();
  assert.is(subscribed(), 1);
  assert.is(watch.latestExcept('owner'), -Infinity);
  deliver({ agent: 'owner', at: 't1' });
  deliver({ agent: 'standby', at: 't1' });
  assert.equal(seen, ['t1']);
  assert.ok(watch.latestExcept('owner') > 0, 'the standby\'s own heartbeat counts as evidence');
  assert.is(watch.connection, 1);
  stop();
  await Promise.resolve();
  assert.is(subscribed(), 0, 'the last follower gone, the subscription goes');
});

s('a retained heartbeat sent again is not a new one (a stuck owner stays silent)', async () => {
  const { peer, deliver } = fakePeer();
  const watch = new HeartbeatWatch(() => peer);
  const seen: string[] = [];
  watch.follow('owner', (load) => seen.push(load.at));
  await Promise.resolve();
  deliver({ agent: 'owner', at: 't1' });
  deliver({ agent: 'owner', at: 't1' });
  deliver({ agent: 'owner', at: 't2' });
  deliver({ agent: 'owner', instance: 'i2', at: 't2' });
  assert.equal(seen, ['t1', 't2', 't2'], 'the replay of t1 dropped; a new instance\'s heartbeat is new');
});

s.run();
