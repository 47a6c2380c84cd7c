/**
 * Every error wasmig throws on purpose is a `WasmigError` with a stable `name` and a
 * string `code`, so that embedders can branch on the kind without parsing messages.
 * One class per kind that the spec tests distinguish, then the runtime's own kinds.
 */
export class WasmigError extends Error {
  /** A stable string per kind (`ERR_WASM_TRAP`, `ERR_SNAPSHOT`, ...): what to branch on. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The binary is malformed (spec: "malformed"): it cannot be decoded at all. */
export class DecodeError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'DecodeError';
  /** Byte offset in the module where decoding failed. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_WASM_DECODE', `${message} at byte 0x${offset.toString(16)}`);
    this.offset = offset;
  }
}

/** The module decodes but does not validate (spec: "invalid"). */
export class ValidationError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'ValidationError';
  /** The function whose body is invalid; undefined for a module-level error. */
  readonly funcIndex: number | undefined;
  /** Byte offset in the module of the instruction or section at fault, when known. */
  readonly offset: number | undefined;
  constructor(message: string, where?: { funcIndex?: number; offset?: number }) {
    const parts: string[] = [];
    if (where?.funcIndex !== undefined) parts.push(`function ${where.funcIndex}`);
    if (where?.offset !== undefined) parts.push(`at byte 0x${where.offset.toString(16)}`);
    super('ERR_WASM_INVALID', parts.length ? `${parts.join(' ')}: ${message}` : message);
    this.funcIndex = where?.funcIndex;
    this.offset = where?.offset;
  }
}

/**
 * The module is valid, but uses a feature this wasmig cannot run yet (SIMD): it is
 * refused whole, after validation, rather than run wrongly.
 */
export class UnsupportedError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'UnsupportedError';
  constructor(message: string) {
    super('ERR_WASM_UNSUPPORTED', message);
  }
}

/** Instantiation failed while resolving imports (spec: "unlinkable"). */
export class LinkError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'LinkError';
  constructor(message: string) {
    super('ERR_WASM_LINK', message);
  }
}

/** One frame of a Wasm backtrace, innermost first. */
export interface TraceFrame {
  /** The function's index in its module. */
  funcIndex: number;
  /** The function's name from the module's name section, when it has one. */
  name: string | undefined;
  /** Byte offset of the instruction in the module (absolute, in the code section). */
  offset: number;
}

/** A Wasm trap; `message` is the spec's text, e.g. "integer divide by zero". */
export class Trap extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name: string = 'Trap';
  /** Wasm call stack at the trap, innermost first (filled in by the engine). */
  backtrace: TraceFrame[] = [];
  constructor(message: string, code = 'ERR_WASM_TRAP') {
    super(code, message);
  }
}

/** A resource limit was hit: call stack depth or value stack size. */
export class ExhaustionError extends Trap {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'ExhaustionError';
  constructor(message = 'call stack exhausted') {
    super(message, 'ERR_WASM_EXHAUSTION');
  }
}

/**
 * A Wasm exception (exception handling: `throw`, `throw_ref`, legacy `rethrow`) that no
 * handler caught before it reached the host. A kind of trap, as an uncaught C++
 * exception aborts a native program: the program is over, with a backtrace of where it
 * was thrown.
 */
export class UncaughtException extends Trap {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'UncaughtException';
  /** The tag's address in the store (its index in the module that threw is in the message). */
  readonly tagAddr: number;
  /** The exception's values as the value stack holds them: two words per slot. */
  readonly payload: Int32Array;
  constructor(tagAddr: number, payload: Int32Array, message: string) {
    super(message, 'ERR_WASM_EXCEPTION');
    this.tagAddr = tagAddr;
    this.payload = payload;
  }
}

/** The guest called `proc_exit`; carries its status. Not a failure by itself. */
export class ExitError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'ExitError';
  /** The status the program passed to `proc_exit`. */
  readonly status: number;
  constructor(status: number) {
    super('ERR_WASM_EXIT', `exit status ${status}`);
    this.status = status;
  }
}

/** A snapshot is malformed, of an unsupported version, or does not fit its module. */
export class SnapshotError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'SnapshotError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SNAPSHOT', message, options);
  }
}

/** A migration could not complete; the job stays where it was. */
export class MigrationError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'MigrationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MIGRATION', message, options);
  }
}

/** The command line or an API call was used wrongly. */
export class UsageError extends WasmigError {
  /** The class's name, stable across versions: branch on it or on `code`. */
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}
