// Runs WASI programs through a wasmig library object, the same code in Node (the sources)
// and in a page (the browser bundle): the test passes the library in, so the two runs
// differ only by the library under them. Plain JavaScript: it is served to the page as is.

const TRAP_STATUS = 134;

function sinks() {
  const out = [];
  const err = [];
  return { out, err, stdout: (d) => { out.push(d.slice()); }, stderr: (d) => { err.push(d.slice()); } };
}

function text(chunks) {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  return new TextDecoder().decode(all);
}

/** Runs `program` until it ends, or (with `until`) pauses at that many instructions. */
function drive(lib, program, until) {
  try {
    for (;;) {
      const outcome = program.run(until === undefined ? {} : { until });
      if (outcome.kind === 'returned') return { status: 0 };
      if (outcome.kind === 'exited') return { status: outcome.status };
      if (outcome.kind === 'paused' && until !== undefined && outcome.instructions >= until) return { paused: outcome.instructions };
      if (outcome.kind === 'awaiting') throw new Error('an asynchronous import: not in these tests');
    }
  } catch (error) {
    if (error instanceof lib.Trap) return { status: TRAP_STATUS, trap: error.message };
    throw error;
  }
}

/** A program from its bytes, run to its end: what it printed and its status. */
export function runProgram(lib, bytes, { args, env = {}, tier = 'interp' }) {
  const io = sinks();
  const program = lib.Program.instantiate(lib.loadModule(bytes), { args, env, tier, stdout: io.stdout, stderr: io.stderr });
  program.start('_start');
  const end = drive(lib, program);
  return { stdout: text(io.out), stderr: text(io.err), ...end };
}

/**
 * Starts a program from its bytes (`snapshot` undefined) or resumes one from a snapshot,
 * runs it until `until` instructions (interpreted: the count is exact) and snapshots it
 * there, or for one slice of `slice` ms (the native tier counts no instructions) and
 * snapshots it where it paused, or to its end when neither is given.
 */
export function leg(lib, { bytes, snapshot, args, env = {}, tier = 'interp', until, slice, memDirs }) {
  const io = sinks();
  let program;
  if (snapshot === undefined) {
    // memDirs: guest names of empty in-memory directories (a resume takes them from the snapshot).
    program = lib.Program.instantiate(lib.loadModule(bytes), { args, env, tier, stdout: io.stdout, stderr: io.stderr, memDirs: memDirs?.map((guest) => ({ guest })) });
    program.start('_start');
  } else {
    program = lib.Program.resume(snapshot, { tier, stdout: io.stdout, stderr: io.stderr });
  }
  let end;
  if (slice !== undefined) {
    const outcome = program.run({ timeSliceMs: slice });
    end = outcome.kind === 'paused' ? { paused: outcome.instructions } : outcome.kind === 'exited' ? { status: outcome.status } : { status: 0 };
  } else {
    end = drive(lib, program, until);
  }
  const result = { stdout: text(io.out), stderr: text(io.err), ...end };
  if (end.paused !== undefined) result.snapshot = program.snapshot({ embedModule: true });
  return result;
}
