import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { ModuleBuilder, name, u32, vec } from '../helpers/module-builder.ts';

function sub(id: number, content: number[]): number[] {
  return [id, ...u32(content.length), ...content];
}

function withNames(payload: number[], extra?: (b: ModuleBuilder) => void): ReturnType<typeof decodeModule> {
  const b = new ModuleBuilder();
  extra?.(b);
  b.custom('name', payload);
  return decodeModule(b.build());
}

const moduleName = sub(0, name('demo'));
const funcNames = sub(1, vec([[0x00, ...name('main')], [0x02, ...name('héllo')]]));
const localNames = sub(2, vec([
  [0x00, ...vec([[0x00, ...name('x')], [0x01, ...name('y')]])],
  [0x02, ...vec([])],
]));

test('module, function and local names', () => {
  const m = withNames([...moduleName, ...funcNames, ...localNames]);
  assert.is(m.names.module, 'demo');
  assert.equal([...m.names.functions], [[0, 'main'], [2, 'héllo']]);
  assert.equal([...m.names.locals.get(0)!], [[0, 'x'], [1, 'y']]);
  assert.is(m.names.locals.get(2)!.size, 0);
  assert.is(m.customs[0]!.name, 'name'); // still listed as a custom section
});

test('unknown subsections are skipped', () => {
  const m = withNames([...funcNames, ...sub(4, [0xde, 0xad]), ...sub(7, [])]);
  assert.equal([...m.names.functions], [[0, 'main'], [2, 'héllo']]);
});

test('a malformed name section is ignored, the module still decodes', () => {
  const broken: [string, number[]][] = [
    ['truncated subsection', [0x01, 0x05, 0x01, 0x00]],
    ['subsection size mismatch', sub(0, [...name('demo'), 0x00])],
    ['bad UTF-8', sub(0, [0x01, 0xff])],
    ['subsections out of order', [...funcNames, ...moduleName]],
    ['duplicate subsection', [...moduleName, ...moduleName]],
    ['count past the content', sub(1, [0x05, 0x00, ...name('a')])],
  ];
  for (const [what, payload] of broken) {
    const m = withNames(payload);
    assert.is(m.names.module, undefined, what);
    assert.is(m.names.functions.size, 0, what);
    assert.is(m.customs.length, 1, what);
  }
});

test('only the first name section counts', () => {
  const b = new ModuleBuilder();
  b.custom('name', moduleName);
  b.custom('name', sub(0, name('other')));
  assert.is(decodeModule(b.build()).names.module, 'demo');
});

test.run();
