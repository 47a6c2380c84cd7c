/**
 * The dashboard's controls (`dist/browser/fleet.js`, imported by the dashboard's page
 * when it is built): the fleet's own client, `FleetClient`, the one `wasmig run --on`,
 * `migrate` and `attach` use, in the page over MQTT-over-WebSocket: start a job from an
 * uploaded module, move a job to another agent (a Node agent or a tab), stop a job, and
 * follow a job's output across its moves. Bundled with the browser agent's stand-ins for Node
 * modules (`agent/in-page/`) by `tools/build-browser.ts` (`browserAgentBuild`).
 *
 * In a fleet that signs, the page's user picks the fleet's key file or an identity file
 * (with the `start` and `migrate` roles, say) in the page: it is read there and given
 * to the client, which signs what it asks, checks the states it waits on, and opens
 * sealed output, as the CLI does, and checks what the page shows (`distrust`): a forged
 * or unsigned job state is marked unverified, a forged status or heartbeat or migration
 * report is left out. Without one the agents refuse what it asks (each refusal shown as
 * the agent's one-line answer), and the page says that what it shows is unchecked.
 * @module
 */
import { FleetClient } from './agent/client.ts';
import type { MigrationResult } from './agent/handoff-source.ts';
import type { JobState } from './agent/messages.ts';
import { RetainedCheck } from './agent/retained-check.ts';
import { signerFromFile } from './agent/signer-file.ts';

/** How the page reaches the broker. */
export interface FleetConnection {
  broker: string;
  username?: string;
  password?: string;
}

/** What the dashboard can ask of the fleet. */
export interface FleetControls {
  /** Starts `program` (the module's bytes) on `agent` with `args` (argv[0] excluded); resolves with the job's id. */
  start(options: { agent: string; module: Uint8Array; program: string; args: string[]; job?: string }): Promise<string>;
  /** Moves `job` to agent `to`; resolves with the migration's measurements (downtime, bytes). */
  migrate(job: string, to: string): Promise<MigrationResult>;
  /** Stops `job` where it runs (it fails with status 143); resolves with the agent that held it. */
  stop(job: string): Promise<string>;
  /** Follows `job`'s output (stdout and stderr, as text, in order, across moves) until it ends. */
  follow(job: string, onText: (text: string, stream: 1 | 2) => void, onNotice: (line: string) => void): Promise<JobState>;
  /** What the client signs with: `the fleet key`, `the identity of NAME`, or `nothing`. */
  readonly signing: string;
  /**
   * Why the page should not believe `payload`, retained on `topic` (undefined: it may), by
   * the rules `wasmig ps` follows (`RetainedCheck`); without a key or identity nothing can
   * be told apart, and it is always undefined (`checks` is false).
   */
  distrust(topic: string, payload: Uint8Array): string | undefined;
  /** Whether `distrust` checks anything: a key or identity was given. */
  readonly checks: boolean;
  /** Disconnects (before connecting again with a key). */
  close(): Promise<void>;
}

/**
 * `message` signed with the key or identity in `keyFile`, as the page's controls sign
 * what they send: for checking in the page that a file is the fleet's (and for tests,
 * which compare it with Node's signature).
 */
export function signWith(keyFile: Uint8Array, message: object): object {
  return signerFromFile(keyFile, 'the key file').sign(message);
}

/**
 * Why `message` does not verify with the key or identity in `keyFile` (undefined: it
 * does), as the page's controls check what they receive; `claim` as `MessageSigner.verify`.
 */
export function verifyWith(keyFile: Uint8Array, message: object, claim?: { signer?: string; type?: string }): string | undefined {
  return signerFromFile(keyFile, 'the key file').verify(message, claim);
}

/**
 * Connects the page's fleet client; `keyFile`: the bytes of the fleet's key file or an
 * identity file the user picked (`signerFromFile`; a bad one throws its one line).
 */
export async function connectFleet(connection: FleetConnection, log: (line: string) => void = () => {}, keyFile?: { name: string; bytes: Uint8Array }): Promise<FleetControls> {
  const key = keyFile ? signerFromFile(keyFile.bytes, `the file ${keyFile.name}`) : undefined;
  const client = await FleetClient.connect({ connection: { url: connection.broker, username: connection.username, password: connection.password }, log, ...(key ? { key } : {}) });
  const retained = key ? new RetainedCheck(key, log) : undefined;
  return {
    signing: !key ? 'nothing' : key.name !== undefined ? `the identity of ${key.name}` : 'the fleet key',
    checks: retained !== undefined,
    distrust: (topic, payload) => retained?.distrust(topic, payload),
    close: () => client.close(),
    async start({ agent, module, program, args, job }) {
      const started = await client.start({ agent, module, program, args: [program, ...args], ...(job ? { job } : {}) });
      return started.job;
    },
    migrate: (job, to) => client.migrate(job, to),
    stop: (job) => client.stop(job),
    follow(job, onText, onNotice) {
      const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
      return client.follow(job, {
        onOutput: (chunk) => {
          const stream = chunk.stream === 2 ? 2 : 1;
          onText(decoders[stream].decode(chunk.data, { stream: true }), stream);
        },
        onNotice,
      });
    },
  };
}
