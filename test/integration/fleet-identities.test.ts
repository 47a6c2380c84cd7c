/**
 * The secure path end to end, as a user runs it (issue 16): `wasmig fleet init/add`,
 * then mosquitto with one login per device and the documented ACL
 * (docs/mosquitto/wasmig.acl), two agents and a client each with its own identity. A job
 * starts on a, moves to b mid-run, `ps` shows it there, its output arrives whole. A
 * broker user allowed to read every topic (as the broker's own administrator could) sees
 * the module, the migration and the output go by as ciphertext only. Then the laptop is
 * revoked through the broker (`wasmig fleet revoke --broker`, as the ACL's admin user):
 * the agent takes the list, no file copied, and refuses the laptop's next start.
 * Skipped, visibly, without mosquitto.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBlobChunk } from '../../src/agent/frames.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { repoRoot } from '../helpers/cli.ts';
import { agentProc, cli, mosquittoBroker, mosquittoPath, stopAll, wasmigProc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-fleet-id-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const fleet = join(work, 'fleet');
const haveMosquitto = mosquittoPath() !== undefined && spawnSync('sh', ['-c', 'command -v mosquitto_passwd']).status === 0;
const s = suite('a fleet with identities through mosquitto and the ACL');

s.after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

s('a job starts, moves a -> b, shows in ps and prints everything', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the identities fleet test did not run');
    return;
  }
  assert.is((await cli(['fleet', 'init', '--dir', fleet])).status, 0);
  for (const [name, roles] of [['a', 'run'], ['b', 'run'], ['laptop', 'start,migrate']]) {
    const r = await cli(['fleet', 'add', name, '--roles', roles, '--dir', fleet]);
    assert.is(r.status, 0, r.stderr);
  }
  const passwords = join(work, 'passwd');
  for (const [i, user] of ['a', 'b', 'laptop', 'sniffer', 'fleet-admin'].entries()) {
    assert.is(spawnSync('mosquitto_passwd', ['-b', ...(i === 0 ? ['-c'] : []), passwords, user, `pw-${user}`]).status, 0);
  }
  // The documented ACL, and a user that reads everything: what the broker itself sees.
  const acl = join(work, 'wasmig.acl');
  writeFileSync(acl, `${readFileSync(resolve(repoRoot, 'docs/mosquitto/wasmig.acl'), 'utf8')}\nuser sniffer\ntopic read wasmig/#\n`);
  const broker = await mosquittoBroker(work, ['allow_anonymous false', `password_file ${passwords}`, `acl_file ${acl}`], 150);
  const blobs: Buffer[] = [];
  const output: Buffer[] = [];
  const sniffer = await MqttLink.open({
    connection: { url: broker.url, username: 'sniffer', password: 'pw-sniffer' }, clientId: 'wasmig-sniffer', persistent: false,
    onMessage: (topic, payload) => {
      if (topic.endsWith('/out')) output.push(Buffer.from(payload));
      else if (topic.endsWith('/data')) { try { blobs.push(Buffer.from(decodeBlobChunk(payload).data)); } catch { /* not a chunk */ } }
    },
  });
  await sniffer.subscribe(['wasmig/v1/agents/+/data', 'wasmig/v1/jobs/+/out', 'wasmig/v1/clients/+/out']);
  const as = (user: string): Record<string, string> => ({ WASMIG_IDENTITY: join(fleet, `${user}.identity`), WASMIG_USERNAME: user, WASMIG_PASSWORD: `pw-${user}` });
  const dir = ['--dir', `${ctl}::/ctl`];
  const [agentA] = await Promise.all([agentProc('a', broker.url, dir, as('a')), agentProc('b', broker.url, dir, as('b'))]);
  const args = ['lines=40', 'work=3000', 'gate=/ctl/idjob', 'at=30', 'status=7'];
  const client = wasmigProc(['run', '--on', 'a', '--job', 'idjob', '--broker', broker.url, tickerPath, ...args], { env: as('laptop'), label: 'client idjob' });
  await client.waitFor(/tick 3\//, 'out');
  const moved = await cli(['migrate', 'idjob', '--to', 'b', '--broker', broker.url], as('laptop'));
  assert.is(moved.status, 0, moved.stderr);
  assert.match(moved.stdout, /^moved job idjob from a to b/);
  const ps = await cli(['ps', '--json', '--broker', broker.url], as('laptop'));
  assert.is(ps.status, 0, ps.stderr);
  const listed = (JSON.parse(ps.stdout) as { id: string; agent: string; unverified?: string }[]).find((j) => j.id === 'idjob');
  assert.is(listed?.agent, 'b');
  assert.is(listed?.unverified, undefined);
  writeFileSync(join(ctl, 'idjob'), '');
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, tickerOutput(args).stdout);
  await sniffer.close();
  const ticker = readFileSync(tickerPath);
  const sealed = Buffer.concat(blobs);
  assert.ok(sealed.length > ticker.length, `the sniffer saw the module and the migration go by (${sealed.length} bytes)`);
  assert.not.ok(sealed.includes(ticker.subarray(ticker.length >> 1, (ticker.length >> 1) + 48)), 'no piece of the module');
  assert.not.ok(sealed.includes('tick '), 'no output line in the migration package');
  assert.ok(output.length > 0, 'the sniffer saw output go by');
  assert.not.ok(Buffer.concat(output).includes('tick '), 'no output line on the output topics');

  // Revoked through the broker, by the one user the ACL lets write the list.
  const revoke = await cli(['fleet', 'revoke', 'laptop', '--dir', fleet, '--broker', broker.url, '--username', 'fleet-admin', '--password', 'pw-fleet-admin']);
  assert.is(revoke.status, 0, revoke.stderr);
  await agentA.waitFor(/revocation list issued at \S+ taken from the broker: 1 device revoked/, 'err');
  const refused = await cli(['run', '--on', 'a', '--detach', '--job', 'after', '--broker', broker.url, tickerPath, 'lines=1'], as('laptop'));
  assert.not.equal(refused.status, 0, refused.stdout);
  assert.match(refused.stderr, /the certificate of laptop was revoked/);
});

s.run();
