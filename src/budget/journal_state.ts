/**
 * The journal store's state, in memory: counters by window, period, dimension and id (settled,
 * held, requests); open leases; and the ids of recently settled reservations. Pure: no I/O and no
 * clock. Every change is a journal record applied with `apply`, both live and on replay, so the
 * state after a restart is the state before it.
 *
 * Time is the callers' (the `now` they pass, as recorded on each line): `seenAt` is the latest
 * one, and retention and the settled-id memory are measured against it, never against this
 * machine's clock, so replaying an old journal on a machine with a wrong clock drops nothing.
 */
import {
  type CounterTuple,
  formatRecord,
  fromTuple,
  JOURNAL_VERSION,
  type JournalRecord,
} from "./journal_records.ts";
import {
  attributionCounters,
  type CounterRef,
  type Dimension,
  type Level,
  RETENTION_MS,
  type SpendRow,
} from "./store.ts";
import { SettledMemory } from "./settled_memory.ts";
import { WINDOW_KINDS, windowAt, type WindowKind } from "./windows.ts";

/** One counter's amounts, with its scope so report rows need no key parsing. */
interface Amounts {
  readonly dimension: Dimension;
  readonly id: string;
  settled: number;
  held: number;
  requests: number;
}

interface Lease {
  readonly estimate: number;
  readonly expiresAt: number;
  readonly counters: readonly CounterTuple[];
  /** The counters' amounts, so dropping a lease needs no lookups. */
  readonly amounts: readonly Amounts[];
}

/** One window's counters, by dimension then id. */
interface WindowCounters {
  readonly kind: WindowKind;
  readonly period: string;
  readonly byScope: Map<Dimension, Map<string, Amounts>>;
}

/** Lines per snapshot piece, and settled ids per `settled` line. */
const PIECE_LINES = 1_000;

/** Spend state rebuilt from, and kept in step with, a journal. */
export class SpendState {
  /**
   * Window kind → period → dimension → id → amounts. Nested maps keyed by the callers' own strings
   * (whose hashes V8 caches) rather than one map keyed by joined strings: a joined key is a new
   * string to hash on every lookup, which cost more than the rest of a settle.
   */
  readonly #windows: Record<WindowKind, Map<string, WindowCounters>> = {
    day: new Map(),
    month: new Map(),
  };
  readonly #leases = new Map<string, Lease>();
  readonly #settled: SettledMemory;
  #seenAt = 0;

  /** `settledCap`: how many settled ids are remembered at most (the oldest are forgotten first). */
  constructor(settledCap: number) {
    this.#settled = new SettledMemory(settledCap);
  }

  /** The latest caller time (epoch ms) any applied record carried. */
  get seenAt(): number {
    return this.#seenAt;
  }

  /** Applies one record. Records come from this process or a replay; both were validated. */
  apply(record: JournalRecord): void {
    switch (record.t) {
      case "head":
        this.#seen(record.at);
        return;
      case "counter": {
        const amounts = this.#amounts(fromTuple(record.c));
        amounts.settled = record.s;
        amounts.requests = record.n;
        return;
      }
      case "settled":
        for (const [id, at] of record.ids) this.#settled.add(id, at);
        return;
      case "reserve": {
        if (record.at !== undefined) this.#seen(record.at);
        const amounts = record.c.map((c) => this.#amounts(fromTuple(c)));
        for (const a of amounts) a.held += record.e;
        this.#leases.set(record.id, {
          estimate: record.e,
          expiresAt: record.x,
          counters: record.c,
          amounts,
        });
        return;
      }
      case "settle": {
        this.#seen(record.at);
        this.#drop(record.id);
        for (const c of attributionCounters(record.a, new Date(record.at))) {
          const amounts = this.#amounts(c);
          amounts.settled += record.n;
          amounts.requests += 1;
        }
        this.#settled.add(record.id, record.at);
        this.#settled.forgetBefore(this.#seenAt);
        return;
      }
      case "release":
      case "reclaim":
        for (const id of record.ids) this.#drop(id);
        return;
    }
  }

  /** True when this reservation was settled (and is still remembered). */
  isSettled(id: string): boolean {
    return this.#settled.has(id);
  }

  /** True when this reservation holds its estimate. */
  hasLease(id: string): boolean {
    return this.#leases.has(id);
  }

  /** A counter's amounts (zero when it has none). */
  level(c: CounterRef): Level {
    const amounts = this.#windows[c.window].get(c.period)?.byScope.get(c.dimension)?.get(c.id);
    return amounts
      ? { settledNano: amounts.settled, heldNano: amounts.held }
      : { settledNano: 0, heldNano: 0 };
  }

  /** Every counter of one window, as report rows. */
  rows(window: WindowKind, period: string): SpendRow[] {
    const rows: SpendRow[] = [];
    for (const a of this.#counters(this.#windows[window].get(period))) {
      rows.push({
        dimension: a.dimension,
        id: a.id,
        settledNano: a.settled,
        heldNano: a.held,
        requests: a.requests,
      });
    }
    return rows;
  }

  /** Ids of the leases expired at `time` (epoch ms). */
  expiredLeases(time: number): string[] {
    const ids: string[] = [];
    for (const [id, lease] of this.#leases) if (lease.expiresAt <= time) ids.push(id);
    return ids;
  }

  /**
   * Forgets what has aged out at `seenAt`: windows that ended more than their retention ago
   * (unless a lease still holds on one, so the held amounts stay exact) and settled ids older than
   * `SETTLED_MEMORY_MS`.
   */
  prune(): void {
    for (const kind of WINDOW_KINDS) {
      for (const [period, window] of this.#windows[kind]) {
        const start = periodStart(kind, period);
        // A period this code did not write (an edited file) is kept rather than guessed at.
        if (Number.isNaN(start.getTime())) continue;
        if (windowAt(kind, start).end.getTime() + RETENTION_MS[kind] >= this.#seenAt) continue;
        let held = false;
        for (const amounts of this.#counters(window)) held ||= amounts.held > 0;
        if (!held) this.#windows[kind].delete(period);
      }
    }
    this.#settled.forgetBefore(this.#seenAt);
  }

  /**
   * The state as snapshot lines (newlines included), head first, in pieces of up to 1,000 lines.
   * The state is copied now and formatted as the pieces are taken, so a large snapshot can be
   * written a piece at a time while the state moves on. Held amounts are not written: replaying
   * the leases holds them again, so they always equal what open leases hold.
   */
  snapshot(): Iterable<string> {
    const counters: [CounterTuple, number, number][] = [];
    for (const kind of WINDOW_KINDS) {
      for (const [period, window] of this.#windows[kind]) {
        for (const a of this.#counters(window)) {
          counters.push([[kind, period, a.dimension, a.id], a.settled, a.requests]);
        }
      }
    }
    const leases = [...this.#leases];
    const settled = this.#settled.copy();
    const lines = counters.length + leases.length + Math.ceil(settled.ids.length / PIECE_LINES);
    const head = formatRecord({ t: "head", v: JOURNAL_VERSION, at: this.#seenAt, lines });
    return (function* () {
      yield head;
      for (let i = 0; i < counters.length; i += PIECE_LINES) {
        yield counters.slice(i, i + PIECE_LINES).map(([c, s, n]) =>
          formatRecord({ t: "counter", c, s, n })
        ).join("");
      }
      for (let i = 0; i < leases.length; i += PIECE_LINES) {
        yield leases.slice(i, i + PIECE_LINES).map(([id, lease]) =>
          formatRecord({
            t: "reserve",
            id,
            e: lease.estimate,
            x: lease.expiresAt,
            c: [...lease.counters],
          })
        ).join("");
      }
      // One line per piece: a thousand settled ids.
      for (let i = 0; i < settled.ids.length; i += PIECE_LINES) {
        const ids: [string, number][] = [];
        const end = Math.min(i + PIECE_LINES, settled.ids.length);
        for (let j = i; j < end; j++) ids.push([settled.ids[j], settled.times[j]]);
        yield formatRecord({ t: "settled", ids });
      }
    })();
  }

  /** A counter's amounts, created at zero when missing. */
  #amounts(c: CounterRef): Amounts {
    const periods = this.#windows[c.window];
    let window = periods.get(c.period);
    if (!window) {
      window = { kind: c.window, period: c.period, byScope: new Map() };
      periods.set(c.period, window);
    }
    let ids = window.byScope.get(c.dimension);
    if (!ids) {
      ids = new Map();
      window.byScope.set(c.dimension, ids);
    }
    let amounts = ids.get(c.id);
    if (!amounts) {
      amounts = { dimension: c.dimension, id: c.id, settled: 0, held: 0, requests: 0 };
      ids.set(c.id, amounts);
    }
    return amounts;
  }

  /** Every counter of a window. */
  *#counters(window: WindowCounters | undefined): Iterable<Amounts> {
    if (!window) return;
    for (const ids of window.byScope.values()) yield* ids.values();
  }

  #drop(id: string): void {
    const lease = this.#leases.get(id);
    if (!lease) return;
    this.#leases.delete(id);
    for (const a of lease.amounts) a.held = Math.max(0, a.held - lease.estimate);
  }

  #seen(at: number): void {
    if (at > this.#seenAt) this.#seenAt = at;
  }
}

/** The first instant of a period named like `2026-01-05` (day) or `2026-01` (month). */
function periodStart(kind: WindowKind, period: string): Date {
  return new Date(kind === "day" ? `${period}T00:00:00.000Z` : `${period}-01T00:00:00.000Z`);
}
