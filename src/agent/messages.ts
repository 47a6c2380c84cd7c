import { randomBytes } from 'node:crypto';
import { NAME_PATTERN } from './connection.ts';
import type { MemDirSpec } from './mem-dir-seed.ts';

/**
 * The JSON messages of the fleet protocol (docs/protocol.md) and their validation: every
 * message comes from the network and is checked field by field before use.
 */

/** Version of the message formats; a peer refuses other versions. */
export const PROTOCOL_VERSION = 1;

export const JOB_STATES = ['starting', 'running', 'paused', 'migrating', 'exited', 'failed'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

/** What a job is: everything needed to start it, carried along when it migrates. */
export interface JobSpec {
  /** Display name: the module file's base name. */
  program: string;
  module: { sha256: string; size: number };
  /** argv, argv[0] included. */
  args: string[];
  env: Record<string, string>;
  maxMemoryBytes?: number;
  /** Execution tier the client asked for (default: the agent's own). */
  tier?: 'interp' | 'native' | 'auto';
  /** When the job first started (ISO 8601), kept across migrations. */
  startedAt: string;
  /** Standby copies to keep on other agents (0 or absent: none; the job is lost with its agent). */
  replicas?: number;
  /** Seconds between checkpoints to the standbys (default {@link DEFAULT_CHECKPOINT_EVERY_SEC}). */
  checkpointEverySec?: number;
  /** The labels the job was placed by (`run --on site=plant-2`): drains and schedulers move it only to agents with them. */
  placement?: Record<string, string>;
  /**
   * Directories in memory the job gets (after its agent's own): their files are part of
   * its state and move with it, so they tie it to no agent. A start request may seed
   * them with content; the spec an agent keeps has no seeds.
   */
  memDirs?: MemDirSpec[];
}

/** Seconds between checkpoints of a replicated job when its spec does not say. */
export const DEFAULT_CHECKPOINT_EVERY_SEC = 1;
/** Most standbys a job may ask for. */
export const MAX_REPLICAS = 8;

/** The latest checkpoint every standby of a job acknowledged (in its retained state). */
export interface CheckpointInfo {
  /** Checkpoint number, from 1 (a new owner starts again from 1). */
  number: number;
  /** Output sequence number the checkpoint covers up to (exclusive): what followers may see. */
  seq: number;
  /** When it was taken (ISO 8601). */
  at: string;
}

/** Retained on `jobs/<job>/state` by the agent that owns the job. */
export interface JobState {
  v: number;
  job: string;
  agent: string;
  /** The owning agent's instance (a restarted agent has a new one). */
  instance: string;
  /** Ownership generation: raised by every migration; higher wins. */
  epoch: number;
  state: JobStateName;
  program: string;
  args: string[];
  startedAt: string;
  updatedAt: string;
  /** Output sequence number one past the last chunk (final states). */
  endSeq?: number;
  /** Exit status (exited) or 134 (trap). */
  status?: number;
  /** Why it failed. */
  error?: string;
  /** Where a migrating job is going. */
  target?: string;
  /**
   * The epoch a migrating job's handoff hands out: a standby that takes the job over
   * must go above it, so that the target's prepared copy is fenced.
   */
  targetEpoch?: number;
  /** Agents holding standby copies (replicated jobs). */
  standbys?: string[];
  /** The latest checkpoint all standbys hold (replicated jobs). */
  checkpoint?: CheckpointInfo;
  /** The labels the job was placed by ({@link JobSpec.placement}), for schedulers. */
  placement?: Record<string, string>;
  sig?: string;
  /** The publishing agent's device certificate (identity.ts). */
  cert?: Record<string, unknown>;
}

/** Retained on `agents/<agent>/status`; the last will says `online: false`. */
export interface AgentStatus {
  v: number;
  agent: string;
  instance: string;
  online: boolean;
  host?: string;
  pid?: number;
  tier?: string;
  /** Guest names of the directories jobs get. */
  dirs?: string[];
  mqtt?: string;
  /** Whether the agent requires signed messages. */
  signed?: boolean;
  since?: string;
  /** When it was published (ms since the epoch; for a last will: when it was set), signed with the rest: receivers refuse older ones (presence-check.ts). */
  ts?: number;
  /** The signature (and, with identities, the certificate) of a fleet that signs statuses. */
  sig?: string;
  cert?: Record<string, unknown>;
}

/** Heartbeat, retained on `agents/<agent>/load`. */
export interface AgentLoad {
  v: number;
  agent: string;
  instance: string;
  at: string;
  /** `at` in ms since the epoch, signed with the rest: receivers refuse older heartbeats (presence-check.ts). */
  ts?: number;
  /** The signature (and, with identities, the certificate) of a fleet that signs heartbeats. */
  sig?: string;
  cert?: Record<string, unknown>;
  /** CPU time of the agent process over the last interval, in cores (1 = one core busy). */
  cpu: number;
  loadavg: number[];
  rss: number;
  memFree: number;
  memTotal: number;
  jobs: number;
  running: number;
  /** The agent's heartbeat period in ms (standbys count missed heartbeats by it; absent from older agents). */
  heartbeatMs?: number;
  /** What the agent advertises for placement (capacity.ts): labels, cores, `--max-jobs`, draining, host signals. */
  labels?: Record<string, string>;
  cores?: number;
  maxJobs?: number;
  draining?: boolean;
  signals?: Record<string, string | number | boolean>;
}

interface Envelope {
  v: number;
  /** Unique per message: request id and replay-protection nonce. */
  id: string;
  /** Milliseconds since the epoch, when sent. */
  ts: number;
  /** Agent name or client id of the sender. */
  from: string;
  /**
   * The recipient: the inbox topic the message was published to (an agent's or a
   * client's). Signed with the rest, so a message replayed into another inbox is refused.
   */
  recipient?: string;
  /** Topic for replies. */
  replyTo?: string;
  /** HMAC-SHA256 of the rest (signing.ts: 64 hex digits), or the sender's Ed25519 signature (identity.ts: 86 base64url characters). */
  sig?: string;
  /** The sender's device certificate (identity.ts), checked by the receiver. */
  cert?: Record<string, unknown>;
  /** With identities, a handoff's final and its answer: the handoff's session (session-mac.ts) instead of `sig` and `cert`. */
  session?: string;
  /** HMAC-SHA256 of the rest under the session's key (64 hex digits). */
  mac?: string;
  /**
   * Set by the receiving peer, never read from the wire (nor signed): when the message
   * came off the link, and when its signature and replay checks were done (`hop-clock.ts`
   * instants; for measuring a handoff's hops only).
   */
  received?: { at: number; checked: number };
}

export interface StartRequest extends Envelope { type: 'start'; job: string; spec: JobSpec }
export interface UploadRequest extends Envelope { type: 'upload'; transfer: string; sha256: string; size: number; chunks: number }
export interface ReplayRequest extends Envelope { type: 'replay'; job: string; fromSeq: number; outTopic: string }
export interface MigrateRequest extends Envelope {
  type: 'migrate';
  job: string;
  to: string;
  /** `stop-and-copy`: no pre-copy rounds (for comparisons); default `live`. */
  mode?: 'live' | 'stop-and-copy';
  /** The downtime the pre-copy aims at: rounds go on until the rest would go over in about this long. */
  maxDowntimeMs?: number;
  /** After this long in pre-copy rounds, the job pauses and the rest goes over at once. */
  deadlineMs?: number;
  /** Why the job moves, when a drain or a scheduler moves it (logged by the source). */
  reason?: string;
}
/** Cancels a migration under way at its source, before the job pauses; the job goes on there. */
export interface CancelRequest extends Envelope { type: 'cancel'; job: string }
/** Ends a job where it runs: it fails with status 143 (128 + SIGTERM) and says who stopped it. */
export interface StopRequest extends Envelope { type: 'stop'; job: string }
/** Opens a handoff at the target: it loads the module into a new worker and says what it already holds of the job. */
export interface PrepareRequest extends Envelope {
  type: 'prepare';
  job: string;
  epoch: number;
  spec: JobSpec;
  /** Guest directory names the job has open. */
  dirs: string[];
  /**
   * With identities: the ephemeral X25519 public key (base64url) of the handoff's sealer,
   * which the target turns into the handoff's session key (session-mac.ts). Signed here,
   * so only the source's own key is taken.
   */
  handoffSession?: string;
}
/** A blob that follows a handoff message: its manifest. */
export interface BlobFields {
  transfer: string;
  sha256: string;
  size: number;
  chunks: number;
}
/**
 * One pre-copy round: memory blocks changed since the last (and new output), as a blob.
 * `base`: the digest of the images the source diffs against, when the target offered
 * them; absent, the module's initial images.
 */
export interface RoundRequest extends Envelope, BlobFields { type: 'round'; job: string; epoch: number; round: number; base?: string }
/** The last of a handoff, sent with the job paused: the rest of memory and output, and the state without memory. */
export interface FinalRequest extends Envelope, BlobFields {
  type: 'final'; job: string; epoch: number; digests: string[]; base?: string;
  /** When the job stopped at the source (`hop-clock.ts`): for measuring the downtime, never for deciding. */
  stopped?: number;
}
/** `released`: output the source had released to followers (a replicated job holds the rest until a checkpoint covers it). */
export interface CommitRequest extends Envelope { type: 'commit'; job: string; epoch: number; released?: number }
/** Makes the recipient a standby of a replicated job (the module was uploaded before). */
export interface StandbyRequest extends Envelope { type: 'standby'; job: string; epoch: number; spec: JobSpec; dirs: string[]; rank: number }
/**
 * A checkpoint for a standby, as a blob (the memory blocks changed since checkpoint
 * `number - 1`, or since the module's initial images when `full`, the output logged
 * since, and the state without memory). `seq`: the output log's end at the checkpoint;
 * `epochCounter`: the highest epoch the owner handed out so far.
 */
export interface CheckpointRequest extends Envelope, BlobFields {
  type: 'checkpoint'; job: string; epoch: number; number: number; full: boolean; seq: number; epochCounter: number; digests: string[];
}
/** The owner no longer needs this standby (the job ended, or moved its standbys elsewhere). */
export interface ReleaseRequest extends Envelope { type: 'release'; job: string; epoch: number }
/**
 * The owner asks a standby agent to confirm its lease on `jobs` (standby-lease.ts): the
 * standby counts it as a heartbeat of the owner's for each job it holds a copy of, and
 * answers what it holds and the newest epoch it knows of each (`LeaseAnswer`).
 */
export interface LeaseRequest extends Envelope { type: 'lease'; jobs: string[] }
/** Moves every job off the recipient (to other agents, by load), then stops it (drain.ts). */
export interface DrainRequest extends Envelope { type: 'drain'; timeoutMs?: number }
export interface AbortRequest extends Envelope { type: 'abort'; job: string; epoch: number; reason: string; transfer?: string }
export interface SyncMessage extends Envelope { type: 'sync' }
export interface Reply extends Envelope {
  type: 'reply';
  /** The id of the request answered. */
  re: string;
  ok: boolean;
  /** `progress` and intermediate stages (`prepared`, `ready`) precede the final `done`. */
  stage: string;
  code?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export type Request = StartRequest | UploadRequest | ReplayRequest | MigrateRequest | CancelRequest | StopRequest | PrepareRequest | RoundRequest | FinalRequest | CommitRequest | AbortRequest
  | StandbyRequest | CheckpointRequest | ReleaseRequest | LeaseRequest | DrainRequest;
export type Message = Request | Reply | SyncMessage;

/** A message that failed validation. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A fresh random id (128 bits, hex). */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

function bad(what: string): never {
  throw new ProtocolError(what);
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(o: Obj, key: string, max = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max) bad(`${key} is not a string of at most ${max} characters`);
  return v;
}

function optStr(o: Obj, key: string, max = 4096): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, max);
}

function int(o: Obj, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${key} is not an integer in [${min}, ${max}]`);
  return v;
}

function name(o: Obj, key: string): string {
  const v = str(o, key, 64);
  if (!NAME_PATTERN.test(v)) bad(`${key} is not a valid name`);
  return v;
}

function hex(o: Obj, key: string, length: number): string {
  const v = str(o, key, length);
  if (v.length !== length || !/^[0-9a-f]+$/.test(v)) bad(`${key} is not ${length} hex digits`);
  return v;
}

function topic(o: Obj, key: string): string {
  const v = str(o, key, 512);
  if (!v.startsWith('wasmig/v1/') || /[+#\0]/.test(v)) bad(`${key} is not a wasmig topic`);
  return v;
}

function strings(x: unknown, what: string, maxCount: number): string[] {
  if (!Array.isArray(x) || x.length > maxCount || !x.every((s) => typeof s === 'string' && s.length <= 65536)) bad(`${what} is not a list of strings`);
  return x as string[];
}

/** Placement labels: at most 32, keys and values short and printable (as `wasmig agent --label` takes them). */
function labels(x: unknown, what: string): Record<string, string> {
  const part = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;
  if (!isObj(x) || Object.keys(x).length > 32 || !Object.entries(x).every(([k, v]) => part.test(k) && typeof v === 'string' && part.test(v))) bad(`${what} is not a map of labels`);
  return { ...(x as Record<string, string>) };
}

export function checkSpec(x: unknown): JobSpec {
  if (!isObj(x)) bad('spec is not an object');
  const module = x.module;
  if (!isObj(module)) bad('spec.module is not an object');
  const env = x.env;
  if (!isObj(env) || Object.keys(env).length > 4096 || !Object.values(env).every((s) => typeof s === 'string')) bad('spec.env is not a map of strings');
  const spec: JobSpec = {
    program: str(x, 'program', 256),
    module: { sha256: hex(module, 'sha256', 64), size: int(module, 'size', 8, 2 ** 31) },
    args: strings(x.args, 'spec.args', 4096),
    env: env as Record<string, string>,
    startedAt: str(x, 'startedAt', 64),
  };
  if (x.maxMemoryBytes !== undefined) spec.maxMemoryBytes = int(x, 'maxMemoryBytes', 0, 2 ** 32);
  if (x.tier !== undefined) {
    if (x.tier !== 'interp' && x.tier !== 'native' && x.tier !== 'auto') bad('spec.tier is not interp, native or auto');
    spec.tier = x.tier;
  }
  if (x.replicas !== undefined) spec.replicas = int(x, 'replicas', 0, MAX_REPLICAS);
  if (x.checkpointEverySec !== undefined) spec.checkpointEverySec = int(x, 'checkpointEverySec', 1, 3600);
  if (x.placement !== undefined) spec.placement = labels(x.placement, 'spec.placement');
  if (x.memDirs !== undefined) {
    // The seeds' content is checked where it is used (`mem-dir-seed.ts`): here, the shape.
    if (!Array.isArray(x.memDirs) || x.memDirs.length > 64) bad('spec.memDirs is not a list of at most 64');
    spec.memDirs = x.memDirs.map((d: unknown, i: number) => {
      if (!isObj(d)) bad(`spec.memDirs[${i}] is not an object`);
      const dir: MemDirSpec = { guest: str(d, 'guest', 1024), maxBytes: int(d, 'maxBytes', 0, 2 ** 32) };
      if (d.seed !== undefined) {
        if (!isObj(d.seed)) bad(`spec.memDirs[${i}].seed is not an object`);
        dir.seed = d.seed as unknown as MemDirSpec['seed'];
      }
      return dir;
    });
  }
  return spec;
}

function blob(o: Obj): BlobFields {
  return { transfer: hex(o, 'transfer', 32), sha256: hex(o, 'sha256', 64), size: int(o, 'size', 0, 2 ** 32), chunks: int(o, 'chunks', 1, 2 ** 20) };
}

function base(o: Obj): { base?: string } {
  return o.base === undefined ? {} : { base: str(o, 'base', 1024) };
}

/**
 * A message's signature fields, kept as they came for the check that follows: an HMAC
 * (64 hex digits) or an Ed25519 signature (86 base64url characters) with the sender's
 * certificate (a small object, checked field by field by identity.ts).
 */
function signature(o: Obj): { sig?: string; cert?: Obj } {
  const out: { sig?: string; cert?: Obj } = {};
  if (o.sig !== undefined) {
    const sig = str(o, 'sig', 86);
    if (!/^[0-9a-f]{64}$/.test(sig) && !/^[A-Za-z0-9_-]{86}$/.test(sig)) bad('sig is neither an HMAC nor an Ed25519 signature');
    out.sig = sig;
  }
  if (o.cert !== undefined) {
    if (!isObj(o.cert) || JSON.stringify(o.cert).length > 1024) bad('cert is not a certificate');
    out.cert = o.cert;
  }
  return out;
}

/** A session-authenticated message's fields (session-mac.ts): the session's id (an X25519 public key, base64url) and the HMAC. */
function sessionFields(o: Obj): { session?: string; mac?: string } {
  if (o.session === undefined && o.mac === undefined) return {};
  const session = str(o, 'session', 43);
  if (!/^[A-Za-z0-9_-]{43}$/.test(session)) bad('session is not an X25519 public key');
  return { session, mac: hex(o, 'mac', 64) };
}

function envelope(o: Obj): Envelope {
  const e: Envelope = { v: int(o, 'v', 1, 1000), id: hex(o, 'id', 32), ts: int(o, 'ts'), from: str(o, 'from', 128) };
  if (e.v !== PROTOCOL_VERSION) bad(`protocol version ${e.v} (this wasmig speaks ${PROTOCOL_VERSION})`);
  if (o.recipient !== undefined) e.recipient = topic(o, 'recipient');
  if (o.replyTo !== undefined) e.replyTo = topic(o, 'replyTo');
  Object.assign(e, signature(o), sessionFields(o));
  return e;
}

/** Parses and validates a control message; throws {@link ProtocolError}. */
export function parseMessage(payload: Buffer | string): Message {
  let o: unknown;
  try {
    o = JSON.parse(payload.toString());
  } catch {
    bad('not JSON');
  }
  if (!isObj(o)) bad('not a JSON object');
  const e = envelope(o);
  switch (o.type) {
    case 'start': return { ...e, type: 'start', job: name(o, 'job'), spec: checkSpec(o.spec) };
    case 'upload': return { ...e, type: 'upload', transfer: hex(o, 'transfer', 32), sha256: hex(o, 'sha256', 64), size: int(o, 'size', 0, 2 ** 32), chunks: int(o, 'chunks', 1, 2 ** 20) };
    case 'replay': return { ...e, type: 'replay', job: name(o, 'job'), fromSeq: int(o, 'fromSeq'), outTopic: topic(o, 'outTopic') };
    case 'migrate': {
      const m: MigrateRequest = { ...e, type: 'migrate', job: name(o, 'job'), to: name(o, 'to') };
      if (o.mode !== undefined) {
        if (o.mode !== 'live' && o.mode !== 'stop-and-copy') bad('mode is not live or stop-and-copy');
        m.mode = o.mode;
      }
      if (o.maxDowntimeMs !== undefined) m.maxDowntimeMs = int(o, 'maxDowntimeMs', 0, 3_600_000);
      if (o.deadlineMs !== undefined) m.deadlineMs = int(o, 'deadlineMs', 0, 86_400_000);
      if (o.reason !== undefined) m.reason = str(o, 'reason', 512);
      return m;
    }
    case 'cancel': return { ...e, type: 'cancel', job: name(o, 'job') };
    case 'stop': return { ...e, type: 'stop', job: name(o, 'job') };
    case 'prepare': {
      const p: PrepareRequest = { ...e, type: 'prepare', job: name(o, 'job'), epoch: int(o, 'epoch', 1), spec: checkSpec(o.spec), dirs: strings(o.dirs, 'dirs', 256) };
      if (o.handoffSession !== undefined) {
        p.handoffSession = str(o, 'handoffSession', 43);
        if (!/^[A-Za-z0-9_-]{43}$/.test(p.handoffSession)) bad('handoffSession is not an X25519 public key');
      }
      return p;
    }
    case 'round': return { ...e, type: 'round', job: name(o, 'job'), epoch: int(o, 'epoch', 1), round: int(o, 'round', 1, 1_000_000), ...blob(o), ...base(o) };
    case 'final': {
      const digests = strings(o.digests, 'digests', 64);
      if (!digests.every((d) => d.length <= 128)) bad('digests are too long');
      const stopped = typeof o.stopped === 'number' && Number.isFinite(o.stopped) ? { stopped: o.stopped } : {};
      return { ...e, type: 'final', job: name(o, 'job'), epoch: int(o, 'epoch', 1), digests, ...blob(o), ...base(o), ...stopped };
    }
    case 'commit': {
      const c: CommitRequest = { ...e, type: 'commit', job: name(o, 'job'), epoch: int(o, 'epoch', 1) };
      if (o.released !== undefined) c.released = int(o, 'released');
      return c;
    }
    case 'standby': return { ...e, type: 'standby', job: name(o, 'job'), epoch: int(o, 'epoch', 1), spec: checkSpec(o.spec), dirs: strings(o.dirs, 'dirs', 256), rank: int(o, 'rank', 0, MAX_REPLICAS) };
    case 'checkpoint': {
      const digests = strings(o.digests, 'digests', 64);
      if (!digests.every((d) => d.length <= 128)) bad('digests are too long');
      if (typeof o.full !== 'boolean') bad('full is not a boolean');
      return {
        ...e, type: 'checkpoint', job: name(o, 'job'), epoch: int(o, 'epoch', 1), number: int(o, 'number', 1), full: o.full, seq: int(o, 'seq'),
        epochCounter: int(o, 'epochCounter', 1), digests, ...blob(o),
      };
    }
    case 'release': return { ...e, type: 'release', job: name(o, 'job'), epoch: int(o, 'epoch', 1) };
    case 'lease': {
      const jobs = strings(o.jobs, 'jobs', 10_000);
      for (const job of jobs) if (!NAME_PATTERN.test(job)) bad(`jobs: ${JSON.stringify(job.slice(0, 80))} is not a job id`);
      return { ...e, type: 'lease', jobs };
    }
    case 'abort': {
      const a: AbortRequest = { ...e, type: 'abort', job: name(o, 'job'), epoch: int(o, 'epoch', 1), reason: str(o, 'reason') };
      if (o.transfer !== undefined && o.transfer !== '') a.transfer = hex(o, 'transfer', 32);
      return a;
    }
    case 'drain': {
      const d: DrainRequest = { ...e, type: 'drain' };
      if (o.timeoutMs !== undefined) d.timeoutMs = int(o, 'timeoutMs', 0, 86_400_000);
      return d;
    }
    case 'sync': return { ...e, type: 'sync' };
    case 'reply': {
      const r: Reply = { ...e, type: 'reply', re: hex(o, 're', 32), ok: o.ok === true, stage: str(o, 'stage', 32) };
      const code = optStr(o, 'code', 64);
      if (code !== undefined) r.code = code;
      const message = optStr(o, 'message');
      if (message !== undefined) r.message = message;
      if (o.data !== undefined) {
        if (!isObj(o.data)) bad('data is not an object');
        r.data = o.data;
      }
      return r;
    }
    default:
      bad(`unknown message type ${JSON.stringify(o.type)}`);
  }
}

/** Parses a retained job state; undefined for an empty (cleared) or invalid one. */
export function parseJobState(payload: Buffer): JobState | undefined {
  if (payload.length === 0) return undefined;
  try {
    const o: unknown = JSON.parse(payload.toString());
    if (!isObj(o)) return undefined;
    const state = str(o, 'state', 16) as JobStateName;
    if (!JOB_STATES.includes(state)) return undefined;
    const s: JobState = {
      v: int(o, 'v'), job: name(o, 'job'), agent: name(o, 'agent'), instance: str(o, 'instance', 64), epoch: int(o, 'epoch', 1), state,
      program: str(o, 'program', 256), args: strings(o.args, 'args', 4096), startedAt: str(o, 'startedAt', 64), updatedAt: str(o, 'updatedAt', 64),
    };
    if (o.endSeq !== undefined) s.endSeq = int(o, 'endSeq');
    if (o.status !== undefined) s.status = int(o, 'status', 0, 255);
    if (o.error !== undefined) s.error = str(o, 'error');
    if (o.target !== undefined) s.target = name(o, 'target');
    if (o.targetEpoch !== undefined) s.targetEpoch = int(o, 'targetEpoch', 1);
    if (o.standbys !== undefined) {
      if (!Array.isArray(o.standbys) || o.standbys.length > MAX_REPLICAS) return undefined;
      s.standbys = o.standbys.map((_, i) => name(o.standbys as unknown as Obj, String(i)));
    }
    if (o.placement !== undefined) s.placement = labels(o.placement, 'placement');
    if (o.checkpoint !== undefined) {
      const c = o.checkpoint;
      if (!isObj(c)) return undefined;
      s.checkpoint = { number: int(c, 'number'), seq: int(c, 'seq'), at: str(c, 'at', 64) };
    }
    Object.assign(s, signature(o));
    return s;
  } catch {
    return undefined;
  }
}

/** Parses a retained agent status; undefined for an empty or invalid one. */
export function parseAgentStatus(payload: Buffer): AgentStatus | undefined {
  if (payload.length === 0) return undefined;
  try {
    const o: unknown = JSON.parse(payload.toString());
    if (!isObj(o) || typeof o.online !== 'boolean') return undefined;
    return { ...(o as unknown as AgentStatus), agent: name(o, 'agent'), instance: str(o, 'instance', 64), online: o.online };
  } catch {
    return undefined;
  }
}

/** Parses a heartbeat; undefined when invalid. */
export function parseAgentLoad(payload: Buffer): AgentLoad | undefined {
  if (payload.length === 0) return undefined;
  try {
    const o: unknown = JSON.parse(payload.toString());
    if (!isObj(o)) return undefined;
    name(o, 'agent');
    for (const k of ['cpu', 'rss', 'memFree', 'memTotal', 'jobs', 'running']) if (typeof o[k] !== 'number') return undefined;
    return o as unknown as AgentLoad;
  } catch {
    return undefined;
  }
}
