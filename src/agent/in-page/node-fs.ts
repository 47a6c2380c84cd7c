/**
 * `node:fs` for the browser agent's bundles: a tab has no files. The agent reaches for
 * them only for what a tab's agent does not have (`--dir` directories, a state dir, TLS
 * or key files), and each call throws one line with an `ENOSYS` code; `/dev/null`, which
 * a job's thread opens as its stdin, is fd 0 (WASI's browser system reads it as empty).
 * @module
 */
function absent(call: string) {
  return (path?: unknown): never => {
    throw Object.assign(new Error(`${call}${typeof path === 'string' ? ` ${path}` : ''}: a browser tab has no files`), { code: 'ENOSYS' });
  };
}

/** Only `/dev/null` opens (as fd 0, the empty stdin of the browser's WASI system). */
export function openSync(path: string): number {
  if (path === '/dev/null') return 0;
  return absent('open')(path);
}

export const readFileSync = absent('readFile');
export const writeFileSync = absent('writeFile');
export const mkdirSync = absent('mkdir');
export const renameSync = absent('rename');
export const realpathSync = absent('realpath');
export const statSync = absent('stat');
