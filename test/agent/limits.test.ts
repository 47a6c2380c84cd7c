/**
 * Agents hold their limits (issue 16): a per-job memory cap by default, a job asking for
 * more refused, a module whose table neither tier holds refused with a one-line error,
 * and none of it touches a job already running there.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, DEFAULT_JOB_MEMORY_BYTES, FleetClient, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { ValType } from '../../src/wasm/index.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { writerOutput, writerPath } from '../helpers/writer.ts';

const writer = readFileSync(writerPath);
const quiet = (): void => {};

const s = suite('agent limits');
let broker: EmbeddedBroker;
let a: Agent;
let client: FleetClient;

s.before(async () => {
  broker = await startBroker({ port: 0 });
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, log: quiet });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client.close();
  await a.stop();
  await broker.close();
});

/** A WASI-shaped module (exports `_start` and a memory) with a table of `elements`. */
function bigTable(elements: number): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  b.table(ValType.funcref, elements);
  b.export('memory', 'memory', b.memory(1));
  b.export('_start', 'func', b.func(t, Uint8Array.of(0x0b)));
  return b.build();
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    return (error as Error).message;
  }
  return assert.unreachable('accepted') as never;
}

s('a default memory cap per job; more asked, a big table: refused in one line, the running job untouched', async () => {
  assert.is(a.maxMemoryBytes, DEFAULT_JOB_MEMORY_BYTES);
  const args = ['mem=2', 'steps=300'];
  const want = writerOutput(args);
  await client.start({ agent: 'a', module: writer, program: 'writer.wasm', args: ['writer.wasm', ...args], job: 'steady' });
  let stdout = '';
  const followed = client.follow('steady', { onOutput: (c) => { if (c.stream === 1) stdout += Buffer.from(c.data).toString(); } });

  const greedy = await refusal(client.start({ agent: 'a', module: writer, program: 'writer.wasm', args: ['writer.wasm'], job: 'greedy', maxMemoryBytes: 2 * 1024 ** 3 }));
  assert.match(greedy, /the job asks for 2147483648 bytes of memory, agent a allows 1073741824 \(wasmig agent --max-memory\)/);
  for (const elements of [20_000_000, 100_000_000]) {
    const tables = await refusal(client.start({ agent: 'a', module: bigTable(elements), program: 'tables.wasm', args: ['tables.wasm'], job: `tables-${elements}` }));
    assert.match(tables, new RegExp(`table of ${elements} elements: more than the 10000000 a table can hold on either tier`));
    assert.not.match(tables, /\n|internal error|RangeError/);
  }

  // The refusal left nothing behind: the same job id starts once it asks for what is allowed
  // (a refused start kept the id "starting", and its worker thread, for ever).
  const retry = ['mem=1', 'steps=1'];
  await client.start({ agent: 'a', module: writer, program: 'writer.wasm', args: ['writer.wasm', ...retry], job: 'greedy', maxMemoryBytes: 64 * 1024 ** 2 });
  let retried = '';
  const retryState = await client.follow('greedy', { onOutput: (c) => { if (c.stream === 1) retried += Buffer.from(c.data).toString(); } });
  assert.is(retryState.state, 'exited');
  assert.is(retried, writerOutput(retry));

  const state = await followed;
  assert.is(state.state, 'exited');
  assert.is(stdout, want);
});

s.run();
