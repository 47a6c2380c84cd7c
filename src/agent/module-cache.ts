import type { CompiledModule } from '../compile/index.ts';
import { DecodeError, ValidationError, WasmigError } from '../errors/index.ts';
import { loadModule } from '../program/index.ts';
import { sha256 } from './frames.ts';

interface Entry {
  bytes: Uint8Array;
  compiled?: CompiledModule;
  used: number;
}

/** Default bound on the module bytes an agent keeps. */
const DEFAULT_LIMIT = 512 * 1024 * 1024;

/**
 * Modules by sha256: a module crosses the network to an agent once, and every later job
 * or migration of it names only its hash. Least recently used modules go past `limit`.
 */
export class ModuleCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #clock = 0;

  constructor(readonly limit = DEFAULT_LIMIT) {}

  has(hash: string): boolean {
    return this.#entries.has(hash);
  }

  bytes(hash: string): Uint8Array | undefined {
    const e = this.#entries.get(hash);
    if (e) e.used = ++this.#clock;
    return e?.bytes;
  }

  /** Adds a module after checking its hash. */
  put(hash: string, bytes: Uint8Array): void {
    if (sha256(bytes) !== hash) throw new WasmigError('ERR_TRANSFER', `module bytes do not match their sha256 ${hash.slice(0, 12)}...`);
    if (this.#entries.has(hash)) return;
    this.#entries.set(hash, { bytes, used: ++this.#clock });
    this.#bytes += bytes.length;
    while (this.#bytes > this.limit && this.#entries.size > 1) {
      let oldest: [string, Entry] | undefined;
      for (const kv of this.#entries) if (kv[0] !== hash && (!oldest || kv[1].used < oldest[1].used)) oldest = kv;
      if (!oldest) break;
      this.#entries.delete(oldest[0]);
      this.#bytes -= oldest[1].bytes.length;
    }
  }

  /** The compiled module (compiled once, on first use). */
  compiled(hash: string, name: string): CompiledModule {
    const e = this.#entries.get(hash);
    if (!e) throw new WasmigError('ERR_MODULE', `module ${hash.slice(0, 12)}... is not in this agent's cache`);
    e.used = ++this.#clock;
    if (!e.compiled) {
      try {
        e.compiled = loadModule(e.bytes);
      } catch (error) {
        if (error instanceof DecodeError) throw new WasmigError(error.code, `${name}: malformed module: ${error.message}`);
        if (error instanceof ValidationError) throw new WasmigError(error.code, `${name}: invalid module: ${error.message}`);
        throw error;
      }
    }
    return e.compiled;
  }
}
