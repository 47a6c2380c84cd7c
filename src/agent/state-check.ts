import type { JobState } from './messages.ts';
import { parseJobState } from './messages.ts';

/** What a peer with (or without) the fleet key says of a signed document. */
export interface DocumentChecker {
  /** Why the document is not acceptable (undefined: fine, or this peer holds no key to tell). */
  checkDocument(doc: object): string | undefined;
}

/** A retained job state as a client may show it: parsed, and whether its signature holds. */
export interface CheckedJobState {
  state: JobState;
  /** Why it cannot be trusted (forged, unsigned, altered); undefined when it verifies or nobody here can tell. */
  distrust?: string;
}

/**
 * Parses a retained job state from `topic` and checks its signature: what clients do
 * with every state before they show it or wait on it (agents do the same, in agent.ts).
 * Undefined when the payload is empty, invalid, or names another job than its topic.
 */
export function checkJobState(payload: Buffer, job: string, checker: DocumentChecker): CheckedJobState | undefined {
  const state = parseJobState(payload);
  if (!state || state.job !== job) return undefined;
  const why = checker.checkDocument(state);
  return why === undefined ? { state } : { state, distrust: why };
}
