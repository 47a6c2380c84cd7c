import { AGENT_USAGE, agentCommand } from './agent.ts';
import { ATTACH_USAGE, attachCommand } from './attach.ts';
import { BROKER_USAGE, brokerCommand } from './broker.ts';
import { MIGRATE_USAGE, migrateCommand } from './migrate.ts';
import { PS_USAGE, psCommand } from './ps.ts';
import { RUN_REMOTE_USAGE } from './run-remote.ts';

/** The fleet commands (MQTT edge agents), by name: what main.ts dispatches to. */
export const FLEET_COMMANDS: Record<string, { usage: string; run: (argv: readonly string[]) => Promise<number> }> = {
  broker: { usage: BROKER_USAGE, run: brokerCommand },
  agent: { usage: AGENT_USAGE, run: agentCommand },
  attach: { usage: ATTACH_USAGE, run: attachCommand },
  migrate: { usage: MIGRATE_USAGE, run: migrateCommand },
  ps: { usage: PS_USAGE, run: psCommand },
  'run-on': { usage: RUN_REMOTE_USAGE, run: () => Promise.resolve(2) },
};

/** The fleet's lines of `wasmig help`. */
export const FLEET_HELP = `  run --on AGENT PROG.wasm [ARGS...]  run a program as a job on an edge agent
  broker [--port N] [--host H]        run an MQTT broker (aedes) in this process
  agent --name NAME [--dir D]...      run an edge agent that takes jobs over MQTT
  attach JOB                          follow a job's output, wherever it runs
  migrate JOB --to AGENT              move a running job to another agent
  ps [--json] [--agents]              list the fleet's jobs (or agents)`;
