/**
 * Separate processes for fleet tests: brokers (wasmig's embedded one, or Debian's
 * mosquitto), agents and clients, on loopback ports. Every server stops by itself: our
 * processes run with WASMIG_EXIT_WITH_PARENT=1 (they exit when the test runner is gone),
 * mosquitto under `timeout`. `stopAll()` ends whatever a test left running.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { repoRoot } from './cli.ts';

const main = resolve(repoRoot, 'src/cli/main.ts');
/** Agents keep their state (replay guard marks) here, not in the home directory of whoever runs the tests. */
const stateDir = mkdtempSync(join(tmpdir(), 'wasmig-state-'));
const running = new Set<Proc>();

/**
 * `WASMIG_FLEET_LOGS=DIR` keeps every process's output in DIR (one file per process,
 * each read stamped with the wall clock as the test saw it), to work out afterwards what
 * each process did and when in a run that failed: agents stamp their own lines, brokers
 * and clients do not, and the test keeps what they wrote only in memory.
 */
function keptLog(label: string, pid: number | undefined): ((stream: 'out' | 'err', data: Buffer) => void) | undefined {
  const dir = process.env.WASMIG_FLEET_LOGS;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label.replace(/[^\w.-]+/g, '_')}-${pid ?? 'x'}.log`);
  return (stream, data) => {
    const at = new Date().toISOString().slice(11, 23);
    const lines = data.toString().split('\n').filter((l) => l !== '');
    appendFileSync(file, lines.map((l) => `${at} ${stream} ${l}\n`).join(''));
  };
}

/** A child process whose output is kept, with a way to wait for a line. */
export class Proc {
  out = '';
  err = '';
  readonly exited: Promise<number>;
  #waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess, readonly label: string) {
    running.add(this);
    const keep = keptLog(label, child.pid);
    child.stdout?.on('data', (d: Buffer) => { this.out += d.toString(); keep?.('out', d); this.#poke(); });
    child.stderr?.on('data', (d: Buffer) => { this.err += d.toString(); keep?.('err', d); this.#poke(); });
    this.exited = new Promise((resolveExit) => {
      child.on('close', (code, signal) => {
        running.delete(this);
        this.#poke();
        resolveExit(code ?? (signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 0) : -1));
      });
    });
  }

  #poke(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return running.has(this);
  }

  /** Waits until stdout or stderr (`where`) matches `re`. */
  waitFor(re: RegExp, where: 'out' | 'err' | 'any' = 'any', timeoutMs = 30_000): Promise<RegExpExecArray> {
    return new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no ${re} within ${timeoutMs} ms\n--- stdout:\n${this.out.slice(-2000)}\n--- stderr:\n${this.err.slice(-3000)}`)), timeoutMs);
      const look = (): void => {
        const text = where === 'out' ? this.out : where === 'err' ? this.err : `${this.out}\n${this.err}`;
        const m = re.exec(text);
        if (m) { clearTimeout(timer); resolveWait(m); return; }
        if (!this.alive) { clearTimeout(timer); reject(new Error(`${this.label} exited before ${re}\n--- stdout:\n${this.out.slice(-2000)}\n--- stderr:\n${this.err.slice(-3000)}`)); return; }
        this.#waiters.push(look);
      };
      look();
    });
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.alive) this.child.kill(signal);
    const timer = setTimeout(() => { if (this.alive) this.child.kill('SIGKILL'); }, 5000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** `wasmig ARGS` from the sources, as a child process. */
export function wasmigProc(args: readonly string[], options: { env?: Record<string, string>; label?: string } = {}): Proc {
  // tsx as a loader, not its CLI (which forks): one process, so that signals reach it.
  // Benchmarks set WASMIG_BUILT=1 to run the built CLI (dist/), as users do: no
  // TypeScript compiled at start-up, in the process or in its jobs' worker threads.
  const command = process.env.WASMIG_BUILT === '1' ? [resolve(repoRoot, 'bin/wasmig.js')] : ['--import', 'tsx', main];
  const child = spawn(process.execPath, [...command, ...args], {
    cwd: repoRoot,
    env: { ...process.env, WASMIG_EXIT_WITH_PARENT: '1', WASMIG_STATE_DIR: stateDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(child, options.label ?? `wasmig ${args[0]}`);
}

/** Runs a wasmig command to its end. */
export async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const p = wasmigProc(args, { env, label: `wasmig ${args.join(' ')}` });
  const status = await p.exited;
  return { status, stdout: p.out, stderr: p.err };
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

export interface BrokerProc {
  url: string;
  port: number;
  proc: Proc;
}

/**
 * `wasmig broker` on `port` (default: one the broker picks, read back from what it prints:
 * a port found free beforehand can be taken by any other process before the broker binds
 * it, which failed CI once).
 */
export async function embeddedBroker(port?: number, extra: string[] = []): Promise<BrokerProc> {
  const proc = wasmigProc(['broker', '--port', String(port ?? 0), ...extra], { label: 'wasmig broker' });
  const m = await proc.waitFor(/listening on (\S+)/, 'out');
  return { url: m[1], port: Number(new URL(m[1]).port), proc };
}

/** `wasmig broker` with MQTT over WebSocket too, on ports it picks: its TCP and WebSocket URLs. */
export async function webSocketBroker(label = 'wasmig broker', extra: string[] = []): Promise<{ proc: Proc; tcp: string; ws: string }> {
  const proc = wasmigProc(['broker', '--port', '0', '--ws-port', '0', ...extra], { label });
  const tcp = (await proc.waitFor(/listening on (\S+)/, 'out'))[1]!;
  const ws = (await proc.waitFor(/MQTT over WebSocket on (\S+)/, 'out'))[1]!;
  return { proc, tcp, ws };
}

/** Path of Debian's mosquitto, if installed. */
export function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/**
 * mosquitto on a free port with its own config in `dir`; it stops by itself after `lifetimeS`.
 * mosquitto cannot pick its own port, so the port is found free first, and another process
 * may take it before mosquitto binds it: then it starts again on another (three tries).
 * `conf` may be a function, called on each try, for listeners of the caller's own.
 */
export async function mosquittoBroker(dir: string, conf: string[] | (() => Promise<string[]>) = [], lifetimeS = 150): Promise<BrokerProc> {
  const exe = mosquittoPath();
  if (!exe) throw new Error('mosquitto is not installed');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const extra = typeof conf === 'function' ? await conf() : conf;
    const file = join(dir, `mosquitto-${port}.conf`);
    writeFileSync(file, [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information',
      // As root, mosquitto would drop to its own user, which cannot read the test's files.
      ...(process.getuid?.() === 0 ? ['user root'] : []), ...(extra.length ? extra : ['allow_anonymous true']), ''].join('\n'));
    const child = spawn('timeout', ['-k', '5', String(lifetimeS), exe, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new Proc(child, 'mosquitto');
    try {
      await proc.waitFor(/running/, 'err');
      return { url: `mqtt://127.0.0.1:${port}`, port, proc };
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test(proc.err)) throw error;
    }
  }
}

/** `wasmig agent --name NAME --broker URL ...`, once online. */
export async function agentProc(name: string, url: string, args: string[] = [], env: Record<string, string> = {}): Promise<Proc> {
  const proc = wasmigProc(['agent', '--name', name, '--broker', url, '--heartbeat', '1', ...args], { env, label: `agent ${name}` });
  await proc.waitFor(/ online at /, 'err');
  return proc;
}

/** Stops every process a test started (SIGTERM, then SIGKILL). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});
