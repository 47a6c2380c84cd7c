import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { FleetClient, JobState } from '../../agent/index.ts';
import { checkName, FleetClient as Client, JobLostError, LOST_AFTER_MS, MAX_REPLICAS, parseSelector, place, readAgents } from '../../agent/index.ts';
import type { Selector, StartedJob, StartJobOptions } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { loadModuleFile } from '../../program/index.ts';
import { flag, integer, maxMemoryOption, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';
import { memDirOptions, parseEnv } from './run.ts';

export const RUN_REMOTE_OPTIONS: OptionSpec[] = [
  { name: 'on', value: true },
  { name: 'detach' },
  { name: 'env', value: true, repeat: true },
  { name: 'max-memory', value: true },
  { name: 'tier', value: true },
  { name: 'job', value: true },
  { name: 'invoke', value: true },
  { name: 'dir', value: true, repeat: true },
  { name: 'mem-dir', value: true, repeat: true },
  { name: 'mem-dir-max', value: true },
  { name: 'lost-after', value: true },
  { name: 'replicas', value: true },
  { name: 'checkpoint-every', value: true },
  ...CONNECTION_OPTIONS,
];

export const RUN_REMOTE_USAGE = `usage: wasmig run --on AGENT|any|KEY=VALUE[,KEY=VALUE] [--detach] [OPTIONS] PROG.wasm [ARGS...]

Starts PROG.wasm as a job on the agent AGENT (the module travels only if the
agent does not have it yet) and streams the job's stdout and stderr here, in
order, following it when it migrates; exits with the job's exit status, or 69
when the job is lost (its agent went offline or restarted, and no other agent
took it over within --lost-after seconds). Ctrl-C detaches (the job goes on:
wasmig attach JOB). With --detach, prints the job id and returns at once.

options:
  --on AGENT            the agent to run on; 'any': the least loaded online agent
                        (CPU per core from the heartbeats, then fewest jobs), skipping
                        agents that are draining, full (agent --max-jobs) or short
                        of the memory asked; 'site=plant-2[,arch=arm64]': the same
                        among agents with those labels (agent --label). The choice
                        is printed in one line: placed on edge-b: least loaded of 3
                        with site=plant-2 (...)
  --detach              print the job id and return
  --env NAME=VALUE      an environment variable for the job; repeatable
  --max-memory BYTES    cap the job's linear memory (K/M/G suffixes)
  --tier TIER           interp, native or auto (default: the agent's --tier)
  --job ID              choose the job id (default: program name + random suffix)
  --lost-after S        seconds the job's agent may stay offline, with no other
                        agent taking the job over, before the job counts as lost
                        (default 10)
  --replicas N          keep N standby copies of the job on other agents: one
                        takes over, from the last checkpoint, when AGENT is gone;
                        output is shown once a checkpoint covering it is held by
                        every standby, so it is never shown twice (default 0)
  --checkpoint-every S  seconds between checkpoints to the standbys (default 1)
  --mem-dir GUEST[=HOSTDIR]
                        a directory GUEST in memory for the job, empty or loaded
                        here from HOSTDIR (sent with the start); its files are
                        part of the job's state and move with it to any agent,
                        a browser tab included; repeatable
  --mem-dir-max BYTES   most bytes of files each holds (default 16M)

Jobs see the directories their agent was started with (wasmig agent --dir),
and their in-memory ones.

${CONNECTION_HELP}`;

/** Exit status of `run --on` and `attach` when the job is lost (EX_UNAVAILABLE in sysexits.h). */
export const EXIT_LOST = 69;

/**
 * Streams a job's output to this process's stdout and stderr until it ends; returns the
 * exit status to give (the job's own, 134 after a trap, 130 when detached by Ctrl-C,
 * {@link EXIT_LOST} when nobody runs the job any more).
 */
export async function followToTerminal(client: FleetClient, job: string, fromSeq = 0, lostAfterMs?: number, justStarted = false): Promise<number> {
  let detach!: () => void;
  const detached = new Promise<'detached'>((resolve) => { detach = () => resolve('detached'); });
  process.once('SIGINT', detach);
  process.once('SIGTERM', detach);
  try {
    let outcome: JobState | 'detached';
    try {
      outcome = await Promise.race([
        client.follow(job, {
          fromSeq,
          lostAfterMs,
          // A job this command just started exists: a broker that restarted meanwhile shows
          // its state again once the agent has reconnected (seen at load 11: exit 2, "no job").
          ...(justStarted ? { awaitStateMs: lostAfterMs ?? LOST_AFTER_MS } : {}),
          onOutput: (c) => { (c.stream === 1 ? process.stdout : process.stderr).write(c.data); },
          onNotice: (line) => process.stderr.write(`wasmig: ${line}\n`),
        }),
        detached,
      ]);
    } catch (error) {
      if (!(error instanceof JobLostError)) throw error;
      process.stderr.write(`wasmig: ${error.message}\n`);
      return EXIT_LOST;
    }
    if (outcome === 'detached') {
      process.stderr.write(`wasmig: detached from job ${job}; it goes on (wasmig attach ${job})\n`);
      return 130;
    }
    if (outcome.state === 'failed') {
      process.stderr.write(`wasmig: job ${job} failed on agent ${outcome.agent}: ${outcome.error ?? 'unknown error'}\n`);
      return outcome.status ?? 1;
    }
    return outcome.status ?? 0;
  } finally {
    process.off('SIGINT', detach);
    process.off('SIGTERM', detach);
  }
}

/** How many agents `run --on any` tries when the chosen one refuses (it filled up or began draining meanwhile). */
const PLACEMENT_TRIES = 3;

/**
 * Starts a job where the fleet chooses (`--on any`, `--on site=plant-2`), says where and
 * why in one line, and tries the next agent when the chosen one has just filled up or
 * begun to drain (its heartbeat had not said so yet).
 */
async function startPlaced(client: FleetClient, selector: Selector, options: StartJobOptions): Promise<StartedJob> {
  const refused = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const { chosen, why } = place(await readAgents(client.peer), selector, { memoryBytes: options.maxMemoryBytes, exclude: refused });
    process.stderr.write(`wasmig: placed on ${chosen.name}: ${why}\n`);
    try {
      return await client.start({ ...options, agent: chosen.name, placement: selector.labels });
    } catch (error) {
      if (attempt >= PLACEMENT_TRIES || !/ is (full|draining)/.test((error as Error).message)) throw error;
      process.stderr.write(`wasmig: ${(error as Error).message}; choosing again\n`);
      refused.add(chosen.name);
    }
  }
}

/** `--lost-after S` in milliseconds, when given. */
export function lostAfterMs(p: Parameters<typeof integer>[0]): number | undefined {
  const seconds = integer(p, 'lost-after', 1);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** `wasmig run --on AGENT ...`. */
export async function runRemoteCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, RUN_REMOTE_OPTIONS, true);
  const [path, ...rest] = p.positionals;
  const on = one(p, 'on') as string;
  const selector = parseSelector(on);
  const agent = selector ? on : checkName(on, '--on');
  if (!path) throw new UsageError(`missing PROG.wasm\n\n${RUN_REMOTE_USAGE}`);
  if (flag(p, 'invoke')) throw new UsageError('--invoke cannot be used with --on: a job runs its WASI _start');
  if (flag(p, 'dir')) throw new UsageError(`--dir cannot be used with --on: jobs see the directories ${selector ? 'their agent was' : `agent ${agent} was`} started with (wasmig agent --dir)`);
  const tier = one(p, 'tier');
  if (tier !== undefined && tier !== 'interp' && tier !== 'native' && tier !== 'auto') throw new UsageError(`--tier ${tier}: expected interp, native or auto`);
  const job = one(p, 'job');
  if (job !== undefined) checkName(job, '--job');
  const env = parseEnv(p.options.get('env') ?? []);
  const memDirs = memDirOptions(p);
  const maxMemoryBytes = maxMemoryOption(p);
  const replicas = integer(p, 'replicas', 0);
  if (replicas !== undefined && replicas > MAX_REPLICAS) throw new UsageError(`--replicas ${replicas}: at most ${MAX_REPLICAS}`);
  const checkpointEverySec = integer(p, 'checkpoint-every', 1);
  if (checkpointEverySec !== undefined && !replicas) throw new UsageError('--checkpoint-every needs --replicas N (N > 0)');
  loadModuleFile(path); // a broken module is an error here, not on the agent
  const bytes = readFileSync(path);
  const { connection, key } = connectionOf(p);
  const client = await Client.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    const program = basename(path);
    const options: StartJobOptions = { agent, module: bytes, program, args: [path, ...rest], env, maxMemoryBytes, job, tier, replicas, checkpointEverySec, ...(memDirs.length ? { memDirs } : {}) };
    const started = selector ? await startPlaced(client, selector, options) : await client.start(options);
    if (flag(p, 'detach')) {
      process.stdout.write(`${started.job}\n`);
      return 0;
    }
    return await followToTerminal(client, started.job, 0, lostAfterMs(p), true);
  } finally {
    await client.close();
  }
}
