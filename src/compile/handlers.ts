import type { HandlerTable } from './ir.ts';

/** One try_table or legacy try while its function is translated. */
interface TryRecord {
  start: number;
  end: number;
  /** The record tried after this one: the enclosing one, or a delegate's target; -1 leaves the frame. */
  next: number;
  clauses: number[];
}

/**
 * Collects a function's exception handlers as the exact translator meets them, and
 * lays them out as a {@link HandlerTable}. Records are numbered in the order their
 * blocks open; clauses in the order they are added (a record's clauses are kept
 * together when the table is built, whatever was added between them).
 */
export class HandlerBuilder {
  private readonly records: TryRecord[] = [];
  /** Per clause: kind, tag, target, base, slots. */
  private readonly clauses: number[][] = [];

  /** A record whose protected code starts at `start`, inside the handlers of record `outer` (-1: none). */
  open(start: number, outer: number): number {
    this.records.push({ start, end: start, next: outer, clauses: [] });
    return this.records.length - 1;
  }

  /** The protected code of `record` ends before `end`. */
  close(record: number, end: number): void {
    if (record >= 0) this.records[record].end = end;
  }

  /** A delegate: what `record` does not catch (it catches nothing) goes to `target`'s handlers (-1: the caller). */
  delegate(record: number, target: number): void {
    if (record >= 0) this.records[record].next = target;
  }

  /** The record tried after `record` (what is in force once its protected code is over). */
  next(record: number): number {
    return record >= 0 ? this.records[record].next : -1;
  }

  /** Adds a clause to `record`; `target` -1 is patched later by {@link HandlerBuilder.setTarget}. Returns the clause's id. */
  clause(record: number, kind: number, tag: number, target: number, base: number, slots: number): number {
    this.clauses.push([kind, tag, target, base, slots]);
    const id = this.clauses.length - 1;
    if (record >= 0) this.records[record].clauses.push(id);
    return id;
  }

  setTarget(clause: number, target: number): void {
    this.clauses[clause][2] = target;
  }

  /** The table, or undefined for a function without handlers. */
  build(): HandlerTable | undefined {
    if (this.records.length === 0) return undefined;
    const tries = new Int32Array(4 * this.records.length);
    const clauses = new Int32Array(5 * this.clauses.length);
    const landings: number[] = [];
    let c = 0;
    this.records.forEach((r, i) => {
      tries[4 * i] = r.start;
      tries[4 * i + 1] = r.end;
      tries[4 * i + 2] = r.next;
      tries[4 * i + 3] = c;
      for (const id of r.clauses) {
        clauses.set(this.clauses[id], 5 * c++);
        if (this.clauses[id][2] >= 0) landings.push(this.clauses[id][2]);
      }
    });
    return { tries, clauses, landings: Int32Array.from(landings) };
  }
}
