/**
 * Budget windows: the UTC day or UTC month an instant falls in. A window includes its start and
 * excludes its end, so a spend at exactly 00:00:00.000 UTC belongs to the new window: rollover
 * happens at the boundary, not a millisecond before or after.
 */

/** The kinds of window a budget can have. */
export type WindowKind = "day" | "month";

/** Every window kind, in the order reports list them. */
export const WINDOW_KINDS: readonly WindowKind[] = ["day", "month"];

/** One concrete window: `period` names it (`2026-01-05` for a day, `2026-01` for a month). */
export interface Window {
  kind: WindowKind;
  period: string;
  /** First instant of the window (inclusive). */
  start: Date;
  /** First instant after the window (exclusive): when its budgets reset. */
  end: Date;
}

/** Where "now" comes from; tests inject a fixed or stepping clock. */
export type Clock = () => Date;

/** The machine's clock. */
export const systemClock: Clock = () => new Date();

/**
 * The window of `kind` that contains `now`.
 *
 * @example
 * windowAt("day", new Date("2026-01-05T23:59:59.999Z")).period; // "2026-01-05"
 * windowAt("day", new Date("2026-01-06T00:00:00.000Z")).period; // "2026-01-06"
 */
export function windowAt(kind: WindowKind, now: Date): Window {
  const last = cachedWindow(kind, now);
  return { kind, period: last.period, start: new Date(last.start), end: new Date(last.end) };
}

/**
 * The period of the window of `kind` that contains `now`: `windowAt(kind, now).period`, without
 * allocating the window (the spend stores name counters by period several times per request).
 */
export function periodAt(kind: WindowKind, now: Date): string {
  return cachedWindow(kind, now).period;
}

interface CachedWindow {
  period: string;
  start: number;
  end: number;
}

/** The last window computed per kind: nearly every call falls in the window of the call before. */
const lastWindow: Record<WindowKind, CachedWindow | undefined> = {
  day: undefined,
  month: undefined,
};

function cachedWindow(kind: WindowKind, now: Date): CachedWindow {
  const time = now.getTime();
  if (!Number.isFinite(time)) throw new RangeError("windowAt() needs a valid date");
  const last = lastWindow[kind];
  if (last && time >= last.start && time < last.end) return last;
  const window = computeWindow(kind, now);
  const computed = {
    period: window.period,
    start: window.start.getTime(),
    end: window.end.getTime(),
  };
  lastWindow[kind] = computed;
  return computed;
}

function computeWindow(kind: WindowKind, now: Date): Window {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  if (kind === "day") {
    const start = new Date(Date.UTC(year, month, now.getUTCDate()));
    const end = new Date(Date.UTC(year, month, now.getUTCDate() + 1));
    return { kind, period: start.toISOString().slice(0, 10), start, end };
  }
  const start = new Date(Date.UTC(year, month, 1));
  const end = new Date(Date.UTC(year, month + 1, 1));
  return { kind, period: start.toISOString().slice(0, 7), start, end };
}
