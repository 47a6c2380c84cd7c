/**
 * The garbage a move leaves on an agent's main thread, step by step: the bytes each step
 * allocates (array buffers, outside V8's heap, and V8's heap), all of which the collector
 * has to find later (README, *Soak*: what V8 keeps between its collections is what made
 * the agents' floors rise).
 *
 * Steps, for packages shaped like the soak's (writer.wasm, 4 MiB, lines of about 60
 * bytes): encoding a pre-copy round and a final package (package.ts), receiving one as
 * 256 KiB chunks off the wire and joining them (transfer.ts: the chunks themselves, the
 * MQTT payloads, are not counted: they exist either way), decoding it.
 *
 * Each step runs after a full collection; what it allocated is the rise of
 * `process.memoryUsage().arrayBuffers` and of the heap's used size across it (no
 * collection happens inside: a step allocates far less than V8's limits). Median of
 * --reps runs.
 *
 * With `--compare DIR` (another checkout of wasmig, e.g. a worktree at an older commit)
 * the same steps run with that tree's code too, side by side in the same process.
 *
 * Usage: node --expose-gc --import tsx tools/bench/move-garbage.ts [--reps 15] [--compare DIR]
 */
import { createHash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('move-garbage: run with node --expose-gc --import tsx');
  process.exit(2);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const reps = Number(arg('--reps') ?? 15);
const here = resolve(import.meta.dirname, '../..');
const trees = [...(arg('--compare') ? [['compared', resolve(arg('--compare')!)]] : []), ['this tree', here]];

interface Code {
  createRingBuffer(bytes?: number): SharedArrayBuffer;
  RingWriter: new (b: SharedArrayBuffer) => { write(stream: number, bytes: Uint8Array): void };
  RingReader: new (b: SharedArrayBuffer) => { drain(): unknown[] };
  encodeRound(p: unknown): Uint8Array;
  encodeFinal(p: unknown): Uint8Array;
  decodeFinal(b: Uint8Array): unknown;
  BlobReceiver: new () => { expect(t: string, m: unknown, o: unknown): Promise<Uint8Array>; accept(b: Buffer): string | undefined };
  encodeBlobChunk(c: { transfer: string; index: number; count: number; data: Uint8Array }): Buffer;
}

async function load(tree: string): Promise<Code> {
  const url = (file: string): string => pathToFileURL(resolve(tree, file)).href;
  return { ...(await import(url('src/agent/package.ts'))), ...(await import(url('src/agent/transfer.ts'))), ...(await import(url('src/agent/frames.ts'))), ...(await import(url('src/agent/output-ring.ts'))) } as Code;
}

/** A log's portable part: `lines` lines of about 60 bytes. */
function log(lines: number): { floor: number; entries: [number, number, Uint8Array][] } {
  return { floor: 0, entries: Array.from({ length: lines }, (_, i) => [i, 1, Buffer.from(`step ${i} wrote 1024 bytes at offset ${i * 1024}, checksum 0x${(i * 2654435761 >>> 0).toString(16)}\n`)]) };
}

const round = { deltas: [randomBytes(4 << 20)], log: log(150) };
const final = { deltas: [randomBytes(256 << 10)], log: log(30), snapshot: randomBytes(16 << 10) };

/** Bytes allocated by `step` (array buffers, heap), after a full collection; `keep` holds its result meanwhile. */
async function measure(step: () => unknown): Promise<[number, number]> {
  const ab: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < reps; i++) {
    gc!();
    // Freed array buffers leave the count a task after the collection.
    await new Promise((r) => setTimeout(r, 20));
    const a0 = process.memoryUsage().arrayBuffers;
    const h0 = getHeapStatistics().used_heap_size;
    const kept = await step();
    ab.push(process.memoryUsage().arrayBuffers - a0);
    heap.push(getHeapStatistics().used_heap_size - h0);
    void kept;
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  return [median(ab), median(heap)];
}

const TRANSFER = 'ab'.repeat(16);
const CHUNK = 256 * 1024;

/** A blob's chunks as they come off the wire (built before the measured part: they exist either way). */
function framesOf(code: Code, blob: Uint8Array): Buffer[] {
  const count = Math.ceil(blob.length / CHUNK);
  return Array.from({ length: count }, (_, index) => code.encodeBlobChunk({ transfer: TRANSFER, index, count, data: blob.subarray(index * CHUNK, (index + 1) * CHUNK) }));
}

/** The receiver's part: the chunks accepted, checked and joined into the blob. */
function receive(code: Code, frames: Buffer[], size: number, sha256: string): Promise<Uint8Array> {
  const r = new code.BlobReceiver();
  const p = r.expect(TRANSFER, { sha256, size, chunks: frames.length }, { idleMs: 60_000, what: 'bench' });
  for (const f of frames) r.accept(f);
  return p;
}

const mb = (n: number): string => (n / 2 ** 20).toFixed(2);
console.log(`reps ${reps}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| step | package MB | ' + trees.map(([name]) => `${name}: array buffers MB, heap MB`).join(' | ') + ' |');
console.log('|---|---:|' + trees.map(() => '---|').join(''));
const codes = await Promise.all(trees.map(([, dir]) => load(dir)));
const roundBytes = codes[0].encodeRound(round);
const finalBytes = codes[0].encodeFinal(final);
const roundSha = createHash('sha256').update(roundBytes).digest('hex');
const frames = codes.map((c) => framesOf(c, roundBytes));
const rings = codes.map((c) => { const ring = c.createRingBuffer(); return { writer: new c.RingWriter(ring), reader: new c.RingReader(ring) }; });
const rows: [string, number, (c: Code, i: number) => Promise<unknown> | unknown][] = [
  ['encode a round (4 MiB delta, 150 lines)', roundBytes.length, (c) => c.encodeRound(round)],
  ['encode a final (256 KiB delta, 30 lines, 16 KiB state)', finalBytes.length, (c) => c.encodeFinal(final)],
  ['receive the round (256 KiB chunks) and join it', roundBytes.length, (c, i) => receive(c, frames[i], roundBytes.length, roundSha)],
  ['decode the final', finalBytes.length, (c) => c.decodeFinal(finalBytes)],
  // What a move's worth of output costs on its way from the job's ring (about 150 lines a move in the soak).
  ['150 lines through the output ring', log(150).entries.reduce((n, [, , d]) => n + d.length, 0), (c, i) => {
    for (const [, , d] of round.log.entries) rings[i].writer.write(1, d);
    return rings[i].reader.drain();
  }],
];
for (const [name, size, step] of rows) {
  const cells: string[] = [];
  for (const [i, c] of codes.entries()) {
    const [ab, heap] = await measure(() => step(c, i));
    cells.push(`${mb(ab)}, ${mb(heap)}`);
  }
  console.log(`| ${name} | ${mb(size)} | ${cells.join(' | ')} |`);
}
