/**
 * An agent's publishes are best effort, but never silent: one that fails leaves a log
 * line saying what was not published and why, and the agent goes on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, startBroker } from '../../src/agent/index.ts';

/** Resolves once `lines` holds a line matching `pattern` (polled: the heartbeat is a timer). */
async function lineMatching(lines: string[], pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = lines.find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no log line matched ${pattern} in ${timeoutMs} ms: ${JSON.stringify(lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a heartbeat the broker refuses is logged, with the reason, and the agent goes on', async () => {
  const broker = await startBroker({ port: 0 });
  const lines: string[] = [];
  const agent = await Agent.start({ name: 'pub', connection: { url: broker.url }, dirs: [], heartbeatMs: 50, log: (l) => lines.push(l) });
  const link = agent.peer.link;
  const publish = link.publish.bind(link);
  try {
    link.publish = () => Promise.reject(new Error('broker said no'));
    const line = await lineMatching(lines, /the heartbeat not published/);
    assert.match(line, /agent pub: the heartbeat not published: broker said no/);
    link.publish = publish;
    const failures = lines.filter((l) => /not published/.test(l)).length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is(lines.filter((l) => /not published/.test(l)).length, failures, 'publishes work again');
  } finally {
    link.publish = publish;
    await agent.stop();
    await broker.close();
  }
});

test.run();
