import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDashboard } from '../../src/dashboard/index.ts';
import { WasmigError } from '../../src/errors/index.ts';

test('the dashboard on a busy port says so in one line', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    await startDashboard({ port, broker: 'ws://127.0.0.1:1' }).then(async (d) => { await d.close(); assert.unreachable('listened on a busy port'); }, (error: unknown) => {
      assert.instance(error, WasmigError);
      assert.is((error as WasmigError).code, 'ERR_DASHBOARD');
      assert.is((error as WasmigError).message, `cannot listen on 127.0.0.1:${port}: the port is in use`);
    });
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});

test.run();
