// Types of page-runner.mjs, which stays plain JavaScript so that the page loads it as is.
export interface RunResult { stdout: string; stderr: string; status?: number; trap?: string; paused?: number; snapshot?: Uint8Array }
export function runProgram(lib: unknown, bytes: Uint8Array, options: { args: string[]; env?: Record<string, string>; tier?: string }): RunResult;
export function leg(lib: unknown, options: { bytes?: Uint8Array; snapshot?: Uint8Array; args?: string[]; env?: Record<string, string>; tier?: string; until?: number; slice?: number; memDirs?: string[] }): RunResult;
