/**
 * `node:path` for the browser agent's bundles: POSIX `join` and `dirname`, the two the
 * agent uses (for state-dir files, which a tab's agent does not have).
 * @module
 */
export function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
}
export function dirname(path: string): string {
  const at = path.replace(/\/+$/, '').lastIndexOf('/');
  return at < 0 ? '.' : at === 0 ? '/' : path.slice(0, at);
}
