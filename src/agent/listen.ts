/**
 * Starting a server on a port, the one way the broker and the dashboard both do it: a
 * port in use or a refused address is a one-line `WasmigError`, never an `error` event
 * with a stack.
 * @module
 */
import type { Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { WasmigError } from '../errors/index.ts';

/**
 * Listens on `host:port`, or throws a `WasmigError` with `code` that says in one line why
 * not; `inUse` names the likely holder of a busy port (for example "another broker?").
 */
export async function listenOn(server: Server | HttpServer, port: number, host: string, code: string, inUse?: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    const why = errno === 'EADDRINUSE' ? `the port is in use${inUse ? ` (${inUse})` : ''}` : errno === 'EACCES' ? 'permission denied' : (cause as Error).message;
    throw new WasmigError(code, `cannot listen on ${host}:${port}: ${why}`, { cause });
  }
}
