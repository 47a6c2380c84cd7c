/** An error's message for a log line (what was thrown need not be an `Error`). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
