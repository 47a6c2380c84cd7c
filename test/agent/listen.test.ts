import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenOn, startBroker } from '../../src/agent/index.ts';
import { WasmigError } from '../../src/errors/index.ts';

/** A port held by another server for the length of `body`. */
async function withBusyPort(body: (port: number) => Promise<void>): Promise<void> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    await body((holder.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
}

async function failure(run: () => Promise<unknown>): Promise<WasmigError> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, WasmigError);
    return error as WasmigError;
  }
  throw new Error('expected a failure');
}

test('listenOn: a busy port is one line with the caller\'s code and hint', async () => {
  await withBusyPort(async (port) => {
    const server = createServer();
    const error = await failure(() => listenOn(server, port, '127.0.0.1', 'ERR_TEST', 'who holds it?'));
    assert.is(error.code, 'ERR_TEST');
    assert.is(error.message, `cannot listen on 127.0.0.1:${port}: the port is in use (who holds it?)`);
    assert.not.ok(server.listening);
  });
});

test('the broker on a busy port says so in one line', async () => {
  await withBusyPort(async (port) => {
    const error = await failure(() => startBroker({ port }));
    assert.is(error.code, 'ERR_BROKER');
    assert.match(error.message, `cannot listen on 127.0.0.1:${port}: the port is in use (another broker?)`);
    assert.not.match(error.message, '\n');
  });
});

test('the broker on a busy WebSocket port says so in one line, and the process lives on', async () => {
  // ws re-emits its HTTP server's errors on the WebSocketServer, which had no listener:
  // the failed listen crashed the process ("Unhandled 'error' event") instead.
  const uncaught: Error[] = [];
  const keep = (error: Error): void => { uncaught.push(error); };
  process.on('uncaughtException', keep);
  try {
    await withBusyPort(async (wsPort) => {
      // Before the fix the start never settled: a guard, so that the test fails instead of hanging.
      let guard: NodeJS.Timeout | undefined;
      const settles = new Promise<never>((_, reject) => { guard = setTimeout(() => reject(new Error('startBroker did not settle in 20 s')), 20_000); });
      const error = await failure(() => Promise.race([startBroker({ port: 0, wsPort }), settles])).finally(() => clearTimeout(guard));
      assert.is(error.code, 'ERR_BROKER');
      assert.is(error.message, `cannot listen on 127.0.0.1:${wsPort}: the port is in use (another broker?)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
  } finally {
    process.off('uncaughtException', keep);
  }
  assert.equal(uncaught.map((e) => e.message), []);
});

test.run();
