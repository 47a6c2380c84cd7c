/**
 * Runs the decoder over the spec test suite's binaries (wast2json output):
 * - every module that should decode (`module`, and the modules of `assert_invalid`,
 *   `assert_unlinkable`, `assert_uninstantiable`, which are well formed) must decode,
 *   all function bodies included;
 * - every binary `assert_malformed` module must throw `DecodeError` whose message starts
 *   with the expected text.
 *
 * Usage: npx tsx tools/decode-suite.ts [suite-dir]   (default: ../shared/spec-tests/wasm-2.0)
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInstr, decodeModule, InstructionReader } from '../src/binary/index.ts';
import { DecodeError } from '../src/errors/index.ts';
import type { Module } from '../src/wasm/types.ts';

interface Command {
  type: string;
  line: number;
  filename?: string;
  module_type?: string;
  text?: string;
}

/** Decodes the module and reads every body to its end. */
function decodeFully(bytes: Uint8Array): Module {
  const m = decodeModule(bytes);
  const instr = createInstr();
  for (const body of m.codes) {
    const r = new InstructionReader(bytes, body.codeStart, body.codeEnd);
    while (r.pos < body.codeEnd) r.read(instr);
  }
  return m;
}

/** Outcome of one malformed module: the mismatch text, or undefined when it matched. */
function checkMalformed(bytes: Uint8Array, expected: string): { ok: boolean; got: string } {
  try {
    decodeFully(bytes);
    return { ok: false, got: '(decoded without error)' };
  } catch (e) {
    if (!(e instanceof DecodeError)) return { ok: false, got: `non-DecodeError: ${String(e)}` };
    return { ok: e.message.startsWith(expected), got: e.message };
  }
}

function main(): void {
  const defaultDir = fileURLToPath(new URL('../../shared/spec-tests/wasm-2.0/', import.meta.url));
  const dir = process.argv[2] ?? defaultDir;
  if (!existsSync(dir)) {
    console.error(`spec tests not found at ${dir}`);
    process.exitCode = 2;
    return;
  }
  let wellFormed = 0;
  let wellFormedFailed = 0;
  let malformed = 0;
  let malformedRejected = 0;
  let malformedTextMatched = 0;
  const problems: string[] = [];
  const notRejected: string[] = [];
  const t0 = performance.now();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const script = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { commands: Command[] };
    for (const cmd of script.commands) {
      if (cmd.filename === undefined || !cmd.filename.endsWith('.wasm')) continue;
      const where = `${file}:${cmd.line} ${cmd.filename}`;
      const bytes = new Uint8Array(readFileSync(join(dir, cmd.filename)));
      const shouldDecode = cmd.type === 'module' || cmd.type === 'assert_invalid'
        || cmd.type === 'assert_unlinkable' || cmd.type === 'assert_uninstantiable';
      if (shouldDecode) {
        wellFormed++;
        try {
          decodeFully(bytes);
        } catch (e) {
          wellFormedFailed++;
          problems.push(`${where} (${cmd.type}): should decode, got ${e instanceof Error ? e.message : String(e)}`);
        }
      } else if (cmd.type === 'assert_malformed' && cmd.module_type === 'binary') {
        malformed++;
        const expected = cmd.text ?? '';
        const { ok, got } = checkMalformed(bytes, expected);
        if (got === '(decoded without error)') {
          notRejected.push(`${where}: expected "${expected}", decoded without error`);
          continue;
        }
        if (got.startsWith('non-DecodeError')) {
          problems.push(`${where}: expected "${expected}", ${got}`);
          continue;
        }
        malformedRejected++;
        if (ok) malformedTextMatched++;
        else problems.push(`${where}: expected "${expected}", got "${got}"`);
      }
    }
  }
  const ms = performance.now() - t0;
  console.log(`well-formed modules: ${wellFormed - wellFormedFailed}/${wellFormed} decoded (bodies included)`);
  console.log(`malformed binaries:  ${malformedRejected}/${malformed} rejected with DecodeError, ${malformedTextMatched} with the expected text`);
  console.log(`time: ${ms.toFixed(0)} ms`);
  if (notRejected.length > 0) {
    console.log(`\nnot rejected by the decoder (${notRejected.length}; need validation-time checks):`);
    for (const line of notRejected) console.log(`  ${line}`);
  }
  if (problems.length > 0) {
    console.log(`\nmismatches (${problems.length}):`);
    for (const line of problems) console.log(`  ${line}`);
    process.exitCode = 1;
  }
}

main();
