/**
 * The two Node globals the agent's files use, for the browser agent's bundles (esbuild
 * injects them where the code names them): `Buffer` (the `buffer` package, which MQTT.js's
 * browser build uses too) and a `process` with what the agent reads: its id (0: a tab
 * has none), an empty environment, stderr as the console; no signals and no CPU
 * figures (load.browser.ts measures the tab otherwise). And the timers, as Node's: a
 * page's `setTimeout` gives a number, where the agent calls `unref()` on what it gets
 * (a timer that should not keep a process alive: a tab has no process to keep alive, so
 * `unref` and `ref` do nothing here); `setImmediate`, which a page lacks, through a
 * `MessageChannel` (a task of its own, unclamped, as Node's: a job's thread yields to
 * its port with it between runs).
 * @module
 */
import { Buffer } from './buffer.ts';

const refused = (what: string) => (): never => {
  throw new Error(`process.${what}: not in a browser tab`);
};

export { Buffer };
export const process = {
  pid: 0,
  platform: 'browser',
  env: {} as Record<string, string | undefined>,
  argv: [] as string[],
  stderr: { write: (text: string): boolean => { console.warn(text.replace(/\n$/, '')); return true; } },
  stdout: { write: (text: string): boolean => { console.log(text.replace(/\n$/, '')); return true; } },
  kill: refused('kill'),
  exit: refused('exit'),
  nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]): void => queueMicrotask(() => fn(...args)),
};

/** A page's timer id with the part of Node's `Timeout` the agent uses. */
class Timeout {
  constructor(readonly id: number) {}
  unref(): this { return this; }
  ref(): this { return this; }
  hasRef(): boolean { return true; }
  [Symbol.toPrimitive](): number { return this.id; }
}

type Callback = (...args: unknown[]) => void;
const idOf = (timer: unknown): number | undefined => (timer instanceof Timeout ? timer.id : typeof timer === 'number' ? timer : undefined);

function setTimeoutNode(fn: Callback, ms?: number, ...args: unknown[]): Timeout {
  return new Timeout(globalThis.setTimeout(fn, ms, ...args) as unknown as number);
}
function setIntervalNode(fn: Callback, ms?: number, ...args: unknown[]): Timeout {
  return new Timeout(globalThis.setInterval(fn, ms, ...args) as unknown as number);
}
function clearTimeoutNode(timer: unknown): void {
  globalThis.clearTimeout(idOf(timer));
}
function clearIntervalNode(timer: unknown): void {
  globalThis.clearInterval(idOf(timer));
}

export { setTimeoutNode as setTimeout, setIntervalNode as setInterval, clearTimeoutNode as clearTimeout, clearIntervalNode as clearInterval };

/**
 * Callbacks waiting for their turn, in order; one channel message runs the next. The port
 * holds a Node process open only while callbacks wait (a page's ports have no `ref`; under
 * Node, in tests, an idle channel kept the test runner from exiting after its last test).
 */
class Immediates {
  readonly #queue = new Map<number, () => void>();
  readonly #channel = new globalThis.MessageChannel();
  readonly #port: MessagePort & { ref?: () => void; unref?: () => void };
  #next = 1;

  constructor() {
    this.#port = this.#channel.port1;
    this.#port.onmessage = () => {
      const first = this.#queue.entries().next();
      if (first.done) return;
      this.#queue.delete(first.value[0]);
      this.#idleUnlessWaiting();
      first.value[1]();
    };
    this.#idleUnlessWaiting();
  }

  add(fn: () => void): number {
    const id = this.#next++;
    this.#queue.set(id, fn);
    this.#port.ref?.();
    this.#channel.port2.postMessage(0);
    return id;
  }

  delete(id: number): void {
    this.#queue.delete(id);
    this.#idleUnlessWaiting();
  }

  #idleUnlessWaiting(): void {
    if (this.#queue.size === 0) this.#port.unref?.();
  }
}

let immediates: Immediates | undefined;

function setImmediateNode(fn: Callback, ...args: unknown[]): Timeout {
  return new Timeout((immediates ??= new Immediates()).add(() => fn(...args)));
}
function clearImmediateNode(immediate: unknown): void {
  const id = idOf(immediate);
  if (id !== undefined) immediates?.delete(id);
}

export { setImmediateNode as setImmediate, clearImmediateNode as clearImmediate };
