import type { AbiFlavor } from './abi.ts';
import { Errno, Event, EventType, Rights, SubClockFlags } from './abi.ts';
import { sleepNs, sleepNsUnlessWoken } from './clock.ts';
import type { WasiContext } from './context.ts';
import { errnoOf, fail } from './errno.ts';
import { isPositional } from './fd-table.ts';

/** One event to report: what `event` will hold. */
interface Outcome {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
}

/** A clock subscription still waiting, with its wait measured from the start of the call. */
interface Timer {
  userdata: bigint;
  waitNs: bigint;
}

/**
 * `poll_oneoff(in: *subscription, out: *event, nsubscriptions: u32) -> nevents: u32 @r0`.
 *
 * `subscription` (48 bytes in preview1, 56 in snapshot 0: see abi.ts): userdata u64 @0,
 * tag u8 @8, then for a clock: id u32, timeout u64, precision u64, flags u16 (abstime = 1);
 * for fd_read/fd_write: fd u32 @16.
 * `event` (32 bytes): userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24.
 *
 * Files and stdio are always reported ready (a regular file's nbytes is what remains to be
 * read after the offset), like uvwasi; when nothing is ready the call sleeps until the
 * earliest clock subscription is due and reports every clock due by then. With
 * `asyncBlocking`, that sleep is a promise (a timer) instead of a blocked thread.
 */
export function pollOneoff(
  ctx: WasiContext,
  abi: AbiFlavor,
  inPtr: number,
  outPtr: number,
  nsubscriptions: number,
  resultPtr: number,
): void | Promise<void> {
  const mem = ctx.memory;
  const n = nsubscriptions >>> 0;
  if (n === 0) fail(Errno.INVAL);
  const layout = abi.subscription;
  mem.check(inPtr, n * layout.size);
  mem.check(outPtr, n * Event.SIZE);
  mem.check(resultPtr, 4);

  const ready: Outcome[] = [];
  const timers: Timer[] = [];
  for (let i = 0; i < n; i++) {
    const at = (inPtr >>> 0) + i * layout.size;
    const userdata = mem.u64(at + layout.userdata);
    const tag = mem.u8(at + layout.tag);
    if (tag === EventType.CLOCK) {
      const id = mem.u32(at + layout.clockId);
      const timeout = mem.u64(at + layout.clockTimeout);
      const flags = mem.u16(at + layout.clockFlags);
      try {
        const waitNs = flags & SubClockFlags.ABSTIME ? timeout - ctx.clocks.now(id) : timeout;
        timers.push({ userdata, waitNs });
      } catch (err) {
        ready.push({ userdata, error: errnoOf(err) ?? Errno.INVAL, type: tag, nbytes: 0n });
      }
    } else if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) {
      const fd = mem.u32(at + layout.fd);
      ready.push(fdReadiness(ctx, userdata, tag, fd));
    } else {
      ready.push({ userdata, error: Errno.INVAL, type: tag, nbytes: 0n });
    }
  }

  let elapsed = 0n;
  if (ready.length === 0 && timers.length > 0) {
    elapsed = timers.reduce((min, t) => (t.waitNs < min ? t.waitNs : min), timers[0]!.waitNs);
    if (ctx.asyncBlocking && elapsed > 0n) {
      // The thread's event loop runs meanwhile; the guest awaits the call.
      const due = elapsed;
      return ctx.sleep(Number(due) / 1e6).then(() => {
        reportEvents(ctx, outPtr, resultPtr, ready, timers, due);
      });
    }
    if (ctx.wake !== undefined) {
      // Woken early (a pause asked for): the rest of the sleep is a promise, so that the
      // thread serves what woke it while the guest awaits the call (a snapshot taken
      // meanwhile makes the call again on resume: a relative timeout starts over).
      const left = sleepNsUnlessWoken(elapsed, ctx.wake);
      if (left > 0n) {
        const due = elapsed;
        return ctx.sleep(Number(left) / 1e6).then(() => {
          reportEvents(ctx, outPtr, resultPtr, ready, timers, due);
        });
      }
    } else {
      sleepNs(elapsed);
    }
  }
  reportEvents(ctx, outPtr, resultPtr, ready, timers, elapsed);
}

/** Writes the events: those `ready`, and every timer due within `elapsed`. */
function reportEvents(ctx: WasiContext, outPtr: number, resultPtr: number, ready: Outcome[], timers: Timer[], elapsed: bigint): void {
  const mem = ctx.memory;
  for (const t of timers) {
    if (t.waitNs <= elapsed) ready.push({ userdata: t.userdata, error: 0, type: EventType.CLOCK, nbytes: 0n });
  }

  mem.bytes(outPtr, ready.length * Event.SIZE).fill(0);
  ready.forEach((ev, i) => {
    const at = (outPtr >>> 0) + i * Event.SIZE;
    mem.setU64(at + Event.USERDATA, ev.userdata);
    mem.setU16(at + Event.ERROR, ev.error);
    mem.setU8(at + Event.TYPE, ev.type);
    mem.setU64(at + Event.NBYTES, ev.nbytes);
  });
  mem.setU32(resultPtr, ready.length);
}

function fdReadiness(ctx: WasiContext, userdata: bigint, type: number, fd: number): Outcome {
  const entry = ctx.fds.entries.get(fd);
  if (entry === undefined) return { userdata, error: Errno.BADF, type, nbytes: 0n };
  const right = type === EventType.FD_READ ? Rights.FD_READ : Rights.FD_WRITE;
  if ((entry.rightsBase & (Rights.POLL_FD_READWRITE | right)) !== (Rights.POLL_FD_READWRITE | right)) {
    return { userdata, error: Errno.NOTCAPABLE, type, nbytes: 0n };
  }
  let nbytes = 0n;
  if (type === EventType.FD_READ && isPositional(entry)) {
    try {
      const size = ctx.fsOf(entry).fstatSync(entry.hostFd, { bigint: true }).size;
      nbytes = size > entry.offset ? size - entry.offset : 0n;
    } catch (err) {
      return { userdata, error: errnoOf(err) ?? Errno.IO, type, nbytes: 0n };
    }
  }
  return { userdata, error: 0, type, nbytes };
}
