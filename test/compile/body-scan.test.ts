/**
 * `scanBodyFacts`: what a module's bodies use, read without validating them (for a module
 * V8 validated and a plain engine runs as it is). On every valid module of both spec
 * suites and of the corpus it must find what validation finds, and a body it leaves
 * unvalidated is validated, and its frame counted, when it is first translated.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { bodyFacts, compileModule, scanBodyFacts } from '../../src/compile/index.ts';
import type { CompiledModule } from '../../src/compile/index.ts';
import { ValidationError } from '../../src/errors/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot } from '../helpers/cli.ts';
import { invalidBodyModule } from '../helpers/invalid-module.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { SPEC_SUITE_DIR, TestRequirement } from '../helpers/test-data.ts';

const { v128 } = ValType;
const SPEC_3_DIR = resolve(SPEC_SUITE_DIR, '..', 'wasm-3.0');
const spec3 = TestRequirement.path('the Wasm 3.0 spec suite', SPEC_3_DIR);
const spec2 = TestRequirement.path('the Wasm 2.0 spec suite', SPEC_SUITE_DIR);

/** The facts of a compiled module that the engines ask about. */
function factsOf(c: CompiledModule): Record<string, string | undefined> {
  return { simdUse: c.simdUse, tailCallUse: c.tailCallUse, exceptionUse: c.exceptionUse, relaxedSimdUse: c.relaxedSimdUse };
}

/**
 * Loads `bytes` both ways (validated, and scanned with lazily validated bodies) and checks
 * that they agree on every fact and, once each body is translated, on every frame size.
 * Returns false for a module our validator refuses (not a case for the scan).
 */
function agrees(bytes: Uint8Array, name: string): boolean {
  let validated: CompiledModule;
  try {
    validated = compileModule(decodeModule(bytes));
  } catch {
    return false;
  }
  const module = decodeModule(bytes);
  const scanned = scanBodyFacts(module);
  assert.ok(scanned.maxHeights.every((h) => h === -1), `${name}: no height is known before validation`);
  const lazy = compileModule(module, scanned);
  assert.equal(factsOf(lazy), factsOf(validated), name);
  assert.ok(bodyFacts(lazy).maxHeights.every((h) => h === -1), `${name}: nothing validated yet`);
  for (let i = 0; i < lazy.functions.length; i++) {
    assert.is(lazy.functions[i].frameSize, validated.functions[i].frameSize, `${name}: function ${i}'s frame`);
  }
  assert.equal(bodyFacts(lazy), bodyFacts(validated), `${name}: once translated, the facts validation finds`);
  return true;
}

/** Every module a suite's scripts define, by file name. */
function suiteModules(dir: string): string[] {
  const files: string[] = [];
  for (const script of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const { commands } = JSON.parse(readFileSync(join(dir, script), 'utf8')) as { commands: { type: string; filename?: string; module_type?: string }[] };
    for (const c of commands) if (c.type === 'module' && c.filename?.endsWith('.wasm')) files.push(c.filename);
  }
  return files;
}

for (const [requirement, dir, suite] of [[spec2, SPEC_SUITE_DIR, '2.0'], [spec3, SPEC_3_DIR, '3.0']] as const) {
  requirement.register(test, `the scan finds what validation finds in every valid module of the ${suite} suite`, () => {
    const files = suiteModules(dir);
    let checked = 0;
    for (const f of files) if (agrees(new Uint8Array(readFileSync(join(dir, f))), f)) checked++;
    // Most of each suite's modules are valid for us (the 3.0 suite's GC scripts are left out).
    assert.ok(checked > 0.9 * files.length, `${checked} of ${files.length} modules checked`);
  });
}

test('the scan finds what validation finds in every corpus program', () => {
  const dir = join(repoRoot, 'test', 'programs');
  const programs = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  assert.ok(programs.length >= 10, 'the corpus is built');
  for (const p of programs) assert.ok(agrees(new Uint8Array(readFileSync(join(dir, p))), p), `${p} is valid`);
});

test('each fact names its first use as validation does', () => {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  b.func(t, [0x01, 0x0b]); // nop
  b.func(t, [0x02, 0x7b, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b, 0x1a, 0x0b]); // block (result v128) v128.const end; drop
  b.func(t, [0x12, 0x00, 0x0b]); // return_call 0
  b.func(b.type([v128], []), [0x0b]);
  const compiled = compileModule(decodeModule(b.build()));
  assert.match(compiled.simdUse ?? '', /^function 1 \(a v128 block type at byte 0x[0-9a-f]+\)$/);
  assert.match(compiled.tailCallUse ?? '', /^function 2 \(return_call at byte 0x[0-9a-f]+\)$/);
  assert.ok(agrees(b.build(), 'built'));
});

test('a body the scan left unvalidated is validated when first translated', () => {
  const module = decodeModule(invalidBodyModule());
  // The scan reads instructions, it does not validate them (V8 would have refused this module).
  const lazy = compileModule(module, scanBodyFacts(module));
  assert.is(lazy.functions[0].frameSize, 1 + 1, 'the valid body: one value, one slot more');
  assert.throws(() => lazy.functions[1].code, (e: unknown) => e instanceof ValidationError && /type mismatch/.test(e.message));
  assert.throws(() => lazy.functions[1].frameSize, (e: unknown) => e instanceof ValidationError);
});

test.run();
