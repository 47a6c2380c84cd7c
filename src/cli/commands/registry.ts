/**
 * The CLI's commands by name. Each command's module is imported only when that command
 * runs or its help is asked for: the fleet commands pull in MQTT and the broker, which
 * would otherwise cost every `wasmig run` about 150 ms of start-up.
 */

/** A command: its help text and what runs it (returning the exit status). */
export interface Command {
  usage: string;
  run: (argv: readonly string[]) => Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => { const m = await import('./run.ts'); return { usage: m.RUN_USAGE, run: m.runCommand }; },
  resume: async () => { const m = await import('./resume.ts'); return { usage: m.RESUME_USAGE, run: m.resumeCommand }; },
  inspect: async () => { const m = await import('./inspect.ts'); return { usage: m.INSPECT_USAGE, run: m.inspectCommand }; },
  bench: async () => { const m = await import('./bench.ts'); return { usage: m.BENCH_USAGE, run: m.benchCommand }; },
  broker: async () => { const m = await import('./broker.ts'); return { usage: m.BROKER_USAGE, run: m.brokerCommand }; },
  agent: async () => { const m = await import('./agent.ts'); return { usage: m.AGENT_USAGE, run: m.agentCommand }; },
  attach: async () => { const m = await import('./attach.ts'); return { usage: m.ATTACH_USAGE, run: m.attachCommand }; },
  migrate: async () => { const m = await import('./migrate.ts'); return { usage: m.MIGRATE_USAGE, run: m.migrateCommand }; },
  stop: async () => { const m = await import('./stop.ts'); return { usage: m.STOP_USAGE, run: m.stopCommand }; },
  ps: async () => { const m = await import('./ps.ts'); return { usage: m.PS_USAGE, run: m.psCommand }; },
  fleet: async () => { const m = await import('./fleet.ts'); return { usage: m.FLEET_USAGE, run: m.fleetCommand }; },
  dashboard: async () => { const m = await import('./dashboard.ts'); return { usage: m.DASHBOARD_USAGE, run: m.dashboardCommand }; },
  scheduler: async () => { const m = await import('./scheduler.ts'); return { usage: m.SCHEDULER_USAGE, run: m.schedulerCommand }; },
  // Help only: `wasmig help run-on` (the command itself is `run --on`).
  'run-on': async () => { const m = await import('./run-remote.ts'); return { usage: m.RUN_REMOTE_USAGE, run: () => Promise.resolve(2) }; },
};

/** The fleet's lines of `wasmig help`. */
export const FLEET_HELP = `  run --on AGENT|any|K=V PROG.wasm    run a program as a job on an edge agent (or where the fleet chooses)
  broker [--port N] [--ws-port N]     run an MQTT broker (aedes) in this process
  dashboard --broker ws://HOST:PORT   serve a page of the fleet, live, with controls; /agent: a tab as an agent
  agent --name NAME [--dir D]...      run an edge agent that takes jobs over MQTT
  agent drain NAME                    move every job off an agent, then stop it
  attach JOB                          follow a job's output, wherever it runs
  migrate JOB --to AGENT              move a running job to another agent
  stop JOB                            stop a job where it runs (it fails with status 143)
  ps [--json] [--agents]              list the fleet's jobs (or agents)
  scheduler --rules FILE              move jobs by policy (load, memory, host signals, --follow)
  fleet init | add NAME --roles R     make the fleet authority, or a device identity
  fleet revoke NAME                   revoke a device's certificates (fleet/revoked.json)`;
