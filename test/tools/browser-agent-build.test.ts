/**
 * The browser agent's bundles (tools/build-browser.ts, `browserAgentBuild`): agent.js,
 * job-thread.js and fleet.js, side by side, built from our sources, pure-JavaScript
 * packages and MQTT.js's browser build; each Node module the agent's files import comes
 * from its stand-in in src/agent/in-page/, and the files with twins are replaced by them.
 * (The browser tests run the bundles.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { browserAgentBuild, IN_PAGE_MODULES } from '../../tools/build-browser.ts';

test('three bundles, no Node module in them, the twins and stand-ins in their places', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-agent-bundle-'));
  try {
    const meta = await browserAgentBuild(dir);
    // A worktree whose node_modules links to another checkout's sees its packages there.
    const inputs = Object.keys(meta.inputs).map((i) => i.replace(/^(\.\.\/)+[^/]+\/node_modules\//, 'node_modules/'));
    const foreign = inputs.filter((i) => !/^(src\/|node_modules\/(@msgpack|@noble|buffer|base64-js|ieee754)\/|node_modules\/mqtt\/dist\/mqtt\.esm\.js$)/.test(i));
    assert.equal(foreign, [], 'our sources, pure-JavaScript packages, MQTT.js\'s browser build');
    for (const file of Object.values(IN_PAGE_MODULES)) assert.ok(inputs.includes(`src/agent/in-page/${file}`), file);
    for (const twin of ['agent/thread-boot', 'agent/load', 'wasi/system', 'snapshot/platform-default']) {
      assert.ok(inputs.includes(`src/${twin}.browser.ts`), `${twin}.browser.ts in`);
      assert.not.ok(inputs.includes(`src/${twin}.ts`), `${twin}.ts out`);
    }
    for (const name of ['agent', 'job-thread', 'fleet']) {
      assert.not.match(readFileSync(join(dir, `${name}.js`), 'utf8'), /\brequire\(["']|from ["']node:/, `${name}.js`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
