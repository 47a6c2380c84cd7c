import * as assert from 'uvu/assert';

/** A small well-formedness check for the SVG we write: nesting, attributes, entities. */
export function checkXml(text: string): void {
  const stack: string[] = [];
  let rest = text.replace(/^<\?xml[^>]*\?>\s*/, '').trim();
  assert.ok(rest.startsWith('<'), 'starts with an element');
  let roots = 0;
  while (rest.length) {
    const lt = rest.indexOf('<');
    const chars = lt < 0 ? rest : rest.slice(0, lt);
    if (stack.length === 0) assert.ok(chars.trim() === '', `text outside the root: ${chars.slice(0, 40)}`);
    assert.not.match(chars, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i, 'a bare & in text');
    assert.not.match(chars, />/, 'a bare > in text');
    if (lt < 0) break;
    rest = rest.slice(lt);
    const m = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/.exec(rest);
    assert.ok(m, `malformed tag at: ${rest.slice(0, 60)}`);
    const [whole, closing, name, attrs, selfClosing] = m!;
    assert.not.match(attrs, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i, 'a bare & in an attribute');
    if (closing) {
      assert.is(stack.pop(), name, `</${name}> closes the wrong element`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) {
      roots++;
    }
    rest = rest.slice(whole.length);
  }
  assert.is(stack.length, 0, `unclosed: ${stack.join(', ')}`);
  assert.is(roots, 1, 'one root element');
}
