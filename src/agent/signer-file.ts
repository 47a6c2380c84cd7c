import { DeviceIdentity } from './identity.ts';
import type { IdentityOptions } from './identity.ts';
import type { MessageSigner } from './signing.ts';
import { FleetKey } from './signing.ts';

/**
 * The signer in a key or identity file's bytes, whichever it is: an identity file is
 * a JSON object (`wasmig fleet add` writes it), a fleet key is any other bytes. For a
 * browser tab, where the user picks the file in the page (no `--key-file` path to give):
 * the browser agent's page and the dashboard's controls. `source` names the file in errors;
 * `options`: an identity's revocation list (a fleet key has none).
 * @throws UsageError when the file is neither (a key too short, an identity that does not check)
 */
export function signerFromFile(bytes: Uint8Array, source: string, options: IdentityOptions = {}): MessageSigner {
  let at = 0;
  while (at < bytes.length && (bytes[at] === 0x20 || bytes[at] === 0x0a || bytes[at] === 0x0d || bytes[at] === 0x09)) at++;
  if (bytes[at] === 0x7b) {
    const text = new TextDecoder().decode(bytes);
    // A raw random key may start with "{" too: only JSON is an identity file.
    if (isJson(text)) return DeviceIdentity.fromText(text, source, options);
  }
  return FleetKey.fromBytes(bytes);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
