/**
 * The spend store contract: where spend lives, shared by every Switchyard instance that uses the
 * same store. Amounts are integer nano-USD (see cost.ts). A counter is one scope (a key, a team, a
 * tag, a route or a via) in one window; it holds what was settled, what in-flight reservations
 * hold, and how many requests settled.
 *
 * The two operations that matter are atomic in every implementation:
 * - `reserve` reads every checked counter, refuses when any hard limit is reached (settled + held
 *   ≥ limit), and otherwise adds the estimate to every checked counter's held amount: one step, so
 *   two concurrent requests can never both see room that only one of them has.
 * - `settle` moves a reservation's amount out of held and the actual cost into settled, and marks
 *   the reservation settled: one step, idempotent (a second settle of the same id changes nothing).
 * Reservations that are never settled or released (a crashed instance) expire after their lease
 * and are reclaimed by the next `reserve`.
 */
import { periodAt, type Window, WINDOW_KINDS, type WindowKind } from "./windows.ts";

/** Scopes a budget can apply to. */
export type BudgetDimension = "key" | "team" | "tag";
/** Everything spend is attributed to. */
export type Dimension = BudgetDimension | "route" | "via";
/** Dimensions in report order. */
export const DIMENSIONS: readonly Dimension[] = ["key", "team", "tag", "route", "via"];

/** One spend counter: a scope in one concrete window. */
export interface CounterRef {
  dimension: Dimension;
  id: string;
  window: WindowKind;
  /** The window's period, e.g. `2026-01-05` or `2026-01`. */
  period: string;
}

/** A counter to read (and, when reserving, to hold the estimate on) at the current window. */
export interface CounterCheck {
  dimension: BudgetDimension;
  id: string;
  window: WindowKind;
  /** The hard limit: reserving fails when settled + held ≥ limit. Absent: only observed. */
  limitNano?: number;
}

/** A counter's amounts. */
export interface Level {
  settledNano: number;
  /** Held by in-flight reservations. */
  heldNano: number;
}

/** An estimate held on counters until it is settled, released, or its lease expires. */
export interface Reservation {
  /** Unique (a random UUID); settling is idempotent per id. */
  readonly id: string;
  readonly estimateNano: number;
  /** The counters the estimate is held on (empty when no budget applies). */
  readonly counters: readonly CounterRef[];
  /** Epoch milliseconds after which an unsettled reservation is reclaimed. */
  readonly expiresAt: number;
}

/** What `reserve` found: levels are those read before this reservation, one per check. */
export type ReserveOutcome =
  | { ok: true; reservation: Reservation; levels: Level[] }
  | {
    ok: false;
    levels: Level[]; /** Indexes of the checks whose limit is reached. */
    blocked: number[];
  };

/** Who and what a settled cost is attributed to. */
export interface Attribution {
  key?: string;
  team?: string;
  tags: readonly string[];
  route: string;
  via: "direct" | "gateway";
}

/** One line of a spend report. */
export interface SpendRow {
  dimension: Dimension;
  id: string;
  settledNano: number;
  heldNano: number;
  requests: number;
}

/** Spend in one window by key, team, tag, route and via. */
export interface SpendReport {
  window: WindowKind;
  period: string;
  /** ISO 8601 instants: the window's start (inclusive) and end (exclusive). */
  start: string;
  end: string;
  /** Sorted by dimension (key, team, tag, route, via), then most spend first, then id. */
  rows: SpendRow[];
  /** All settled spend in the window (the sum over `via`, which every request has). */
  totalNano: number;
}

/**
 * Where spend is kept. Implementations: kv_store.ts (embedded), redis_store.ts (shared).
 * `await using store = await openStore(spec)` closes it at the end of the scope.
 */
export interface SpendStore extends AsyncDisposable {
  /** Atomically checks every hard limit and holds the estimate on every checked counter. */
  reserve(
    checks: readonly CounterCheck[],
    estimateNano: number,
    now: Date,
  ): Promise<ReserveOutcome>;
  /**
   * Atomically replaces the reservation by the actual spend, attributed to the current day and
   * month. Idempotent: returns `false` when this reservation was already settled. When it
   * resolves, the spend is stored (durably, as the store defines it).
   */
  settle(
    reservation: Reservation,
    actualNano: number,
    attribution: Attribution,
    now: Date,
  ): Promise<boolean>;
  /** Gives back a reservation that will not be settled (the request never reached an upstream). */
  release(reservation: Reservation): Promise<void>;
  /** One counter's amounts in the window containing `now`. */
  spent(dimension: Dimension, id: string, window: WindowKind, now: Date): Promise<Level>;
  /** The amounts of several counters at once (read-only; for facts before a decision). */
  levels(checks: readonly CounterCheck[], now: Date): Promise<Level[]>;
  /** Spend in the window of `kind` containing `now`. */
  report(kind: WindowKind, now: Date): Promise<SpendReport>;
  /** Closes connections and handles the store opened. */
  close(): Promise<void>;
}

/** Default time an unsettled reservation is held: longer than any route's total timeout. */
export const DEFAULT_LEASE_MS = 15 * 60_000;

/** How long a settled reservation id is remembered, so a late duplicate settle is a no-op. */
export const SETTLED_MEMORY_MS = 7 * 24 * 3_600_000;

/** How long counters are kept after their window ends (shared stores expire them then). */
export const RETENTION_MS: Record<WindowKind, number> = {
  day: 35 * 24 * 3_600_000,
  month: 400 * 24 * 3_600_000,
};

/** The counter a check names at `now`. */
export function counterAt(check: CounterCheck, now: Date): CounterRef {
  return {
    dimension: check.dimension,
    id: check.id,
    window: check.window,
    period: periodAt(check.window, now),
  };
}

/** Every counter a settled cost adds to: each dimension of the attribution, day and month. */
export function attributionCounters(attribution: Attribution, now: Date): CounterRef[] {
  const scopes: [Dimension, string][] = [];
  if (attribution.key !== undefined) scopes.push(["key", attribution.key]);
  if (attribution.team !== undefined) scopes.push(["team", attribution.team]);
  for (const tag of new Set(attribution.tags)) scopes.push(["tag", tag]);
  scopes.push(["route", attribution.route], ["via", attribution.via]);
  const counters: CounterRef[] = [];
  for (const kind of WINDOW_KINDS) {
    const period = periodAt(kind, now);
    for (const [dimension, id] of scopes) counters.push({ dimension, id, window: kind, period });
  }
  return counters;
}

/** True when a level has reached a hard limit: spent (settled + held) ≥ limit. */
export function isSpent(level: Level, limitNano: number | undefined): boolean {
  return limitNano !== undefined && level.settledNano + level.heldNano >= limitNano;
}

/** Builds a report from unsorted rows. */
export function spendReport(window: Window, rows: SpendRow[]): SpendReport {
  const order = (d: Dimension) => DIMENSIONS.indexOf(d);
  rows.sort((a, b) =>
    order(a.dimension) - order(b.dimension) || b.settledNano - a.settledNano ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
  const totalNano = rows.reduce((sum, r) => sum + (r.dimension === "via" ? r.settledNano : 0), 0);
  return {
    window: window.kind,
    period: window.period,
    start: window.start.toISOString(),
    end: window.end.toISOString(),
    rows,
    totalNano,
  };
}

/** A store's data could not be read or written (after retries); admission should fail closed. */
export class SpendStoreError extends Error {
  override name = "SpendStoreError";
}

/** Rejects amounts that are not whole, non-negative, safe nano-dollar counts. */
export function assertNano(amount: number, what: string): void {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`${what} must be a whole, non-negative number of nano-USD: ${amount}`);
  }
}

/** Rejects checks that name the same counter twice (the ledger merges them). */
export function assertDistinct(checks: readonly CounterCheck[]): void {
  if (checks.length < 2) return; // the common case (no budget or one) allocates nothing
  const ids = new Set(checks.map((c) => `${c.window}\u0000${c.dimension}\u0000${c.id}`));
  if (ids.size !== checks.length) throw new RangeError("Checks name the same counter twice");
}

/**
 * Every store's first step of `reserve`: validates the request and makes the reservation — a new
 * id, the checks' counters at `now`, and the lease's expiry.
 */
export function newReservation(
  checks: readonly CounterCheck[],
  estimateNano: number,
  now: Date,
  leaseMs: number,
): Reservation {
  assertNano(estimateNano, "The estimate");
  assertDistinct(checks);
  return {
    id: crypto.randomUUID(),
    estimateNano,
    counters: checks.map((check) => counterAt(check, now)),
    expiresAt: now.getTime() + leaseMs,
  };
}
