import { readFileSync } from 'node:fs';
import { SnapshotError, UsageError } from '../../errors/index.ts';
import { DEFAULT_MAX_BODY_BYTES, inspectSnapshot } from '../../snapshot/index.ts';
import type { SnapshotDescription } from '../../snapshot/index.ts';
import { flag, maxSnapshotOption, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { readSnapshotFile } from './resume.ts';

export const INSPECT_OPTIONS: OptionSpec[] = [
  { name: 'json' },
  { name: 'module', value: true },
  { name: 'max-snapshot', value: true },
];

export const INSPECT_USAGE = `usage: wasmig inspect [--json] [--module PROG.wasm] [--max-snapshot BYTES] SNAPSHOT

Shows what a snapshot holds: its module's hash, the instruction count, the call
stack with function names and byte offsets, locals and operand stacks
(abbreviated), memory pages, open files, the files of its in-memory
directories and the size of each part. For a
delta snapshot: the base it needs and how many memory blocks it carries.

options:
  --json               print it all as one JSON document
  --module PROG.wasm   read function names from this module (when the snapshot
                       does not carry its module)
  --max-snapshot BYTES refuse a snapshot whose body would decompress to more
                       (default 4G, what the format can declare)`;

function kib(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatDescription(path: string, d: SnapshotDescription): string {
  const lines: string[] = [];
  lines.push(`snapshot ${path}: ${kib(d.fileBytes)}, format v${d.formatVersion}${d.storeImage ? ', store image' : ''}`);
  lines.push(`module   sha256 ${d.moduleSha256}${d.moduleEmbedded ? ` (embedded, ${kib(d.moduleBytes ?? 0)})` : ' (not embedded)'}`);
  lines.push(`status   ${d.status}${d.entry ? ` in ${d.entry}` : ''} after ${d.instructions} instructions`);
  if (d.args) lines.push(`argv     ${d.args.map((a) => JSON.stringify(a)).join(' ')}`);
  if (d.callStack.length) {
    lines.push(`call stack (${d.callStack.length} frames, innermost first):`);
    const shown = d.callStack.length > 20 ? [...d.callStack.slice(0, 10), undefined, ...d.callStack.slice(-10)] : d.callStack;
    shown.forEach((f, i) => {
      if (f === undefined) { lines.push(`  ... ${d.callStack.length - 20} more frames`); return; }
      const index = i < 10 || d.callStack.length <= 20 ? i : d.callStack.length - (shown.length - i);
      lines.push(`  ${String(index).padStart(3)}: ${f.name ?? `<function ${f.funcIndex}>`} (function ${f.funcIndex} at byte 0x${f.pc.toString(16)})`);
      const more = (n: number, shownCount: number): string => (n > shownCount ? ` ... (${n} in all)` : '');
      lines.push(`       locals [${f.locals.join(', ')}]${more(f.localsCount, f.locals.length)}`);
      lines.push(`       stack  [${f.stackCount > f.stack.length ? '..., ' : ''}${f.stack.join(', ')}]${more(f.stackCount, f.stack.length)}`);
    });
  }
  if (d.delta) lines.push(`base     ${d.delta.base} (delta against it, ${kib(d.delta.bytes)} of blocks)`);
  d.memories.forEach((m, i) => {
    const delta = d.delta?.memories[i];
    const held = delta ? `delta: ${delta.blocksStored} of ${delta.blocksTotal} blocks stored (${kib(delta.bytes)})` : `${m.storedPages} non-zero pages stored (${kib(m.storedBytes)})`;
    lines.push(`memory ${i} ${m.index64 ? 'i64, ' : ''}${m.pages} pages (${kib(m.pages * 65536)}), max ${m.max ?? 'none'}; ${held}`);
  });
  d.tables.forEach((t, i) => lines.push(`table ${i}  ${t.index64 ? 'i64 ' : ''}${t.elemType}, ${t.size} elements (${t.nonNull} set), max ${t.max ?? 'none'}`));
  lines.push(`globals  ${d.globals}; dropped segments: data [${d.droppedData.join(', ')}], elem [${d.droppedElems.join(', ')}]`);
  // An exnref among the locals and operands above is the index of its exception here.
  if (d.exceptions.length) lines.push(`exceptions ${d.exceptions.map((e, i) => `#${i} ${e}`).join('; ')}`);
  if (d.openFiles.length) {
    lines.push('open files:');
    for (const f of d.openFiles) lines.push(`  fd ${String(f.fd).padStart(2)} ${f.kind.padEnd(5)} ${f.path}${f.read ? ' r' : ''}${f.write ? ' w' : ''}${f.kind === 'file' ? ` offset ${f.offset}` : ''}`);
  }
  for (const m of d.memDirs) {
    const count = m.files.filter((f) => f.type === 'file').length;
    const orphans = m.orphans ? `, ${m.orphans} unlinked but open` : '';
    lines.push(`in-memory directory ${m.guest}: ${count} file${count === 1 ? '' : 's'}${orphans}, ${kib(m.bytes)} of its ${kib(m.maxBytes)}`);
    const shown = m.files.length > 40 ? m.files.slice(0, 40) : m.files;
    for (const f of shown) lines.push(`  ${f.type === 'symlink' ? 'link' : f.type.padEnd(4)} ${f.path}${f.type === 'dir' ? '/' : f.type === 'symlink' ? ` -> ${f.target ?? ''}` : ` ${kib(f.size)}`}`);
    if (m.files.length > shown.length) lines.push(`  ... ${m.files.length - shown.length} more entries (--json lists them all)`);
  }
  if (d.hostState.length) lines.push(`host state: ${d.hostState.join(', ')}`);
  const s = d.sizes;
  lines.push(`size by part (uncompressed): memory ${kib(s.memory)}, frames ${kib(s.frames)}, tables ${kib(s.tables)}, globals ${kib(s.globals)}, wasi ${kib(s.wasi)}, host ${kib(s.host)}, module ${kib(s.module)}, other ${kib(s.other)}`);
  lines.push(`         body ${kib(s.body)} compressed to ${kib(s.compressed)} (+ 56-byte header)`);
  return lines.join('\n');
}

/** `wasmig inspect`: returns the process exit status. */
export async function inspectCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, INSPECT_OPTIONS, false);
  if (p.positionals.length !== 1) throw new UsageError(`${p.positionals.length === 0 ? 'missing SNAPSHOT' : 'one SNAPSHOT only'}\n\n${INSPECT_USAGE}`);
  const path = p.positionals[0];
  const maxBodyBytes = maxSnapshotOption(p) ?? DEFAULT_MAX_BODY_BYTES;
  const bytes = readSnapshotFile(path, maxBodyBytes);
  const modulePath = one(p, 'module');
  let module: Uint8Array | undefined;
  if (modulePath !== undefined) {
    try { module = readFileSync(modulePath); } catch (cause) { throw new UsageError(`${modulePath}: ${(cause as Error).message}`); }
  }
  let d: SnapshotDescription;
  try {
    d = inspectSnapshot(bytes, module, { maxBodyBytes });
  } catch (error) {
    if (error instanceof SnapshotError) throw new SnapshotError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
  process.stdout.write(flag(p, 'json') ? `${JSON.stringify(d, null, 2)}\n` : `${formatDescription(path, d)}\n`);
  return 0;
}
