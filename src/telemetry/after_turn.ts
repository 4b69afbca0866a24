/**
 * Telemetry work that need not delay an answer — setting a finished span's attributes and ending
 * it, adding metric points — runs right after the current turn of the event loop, the turn in
 * which Deno writes the response out. Each span end is an op that also wakes Deno's exporter
 * thread (a `write(2)` to an eventfd); done inline, that work sat between the upstream's answer and
 * the client's. Spans keep their true times: callers take `epochNow()` when the work is queued and
 * pass it as the end time.
 *
 * Why `setImmediate`: it runs after the event loop has polled I/O (a microtask would run before
 * the response is written; a `setTimeout(0)` waits about a millisecond). One callback drains what a
 * whole turn queued.
 */
import { setImmediate } from "node:timers";

let queue: (() => void)[] = [];
let scheduled = false;

/** Runs `task` after this turn of the event loop. A task that throws is reported and skipped. */
export function afterThisTurn(task: () => void): void {
  queue.push(task);
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
}

function drain(): void {
  const tasks = queue;
  queue = [];
  scheduled = false;
  for (const task of tasks) {
    try {
      task();
    } catch (error) {
      console.error(`telemetry: ${error instanceof Error ? error.message : error}`);
    }
  }
}

/**
 * Now, in epoch milliseconds with sub-millisecond precision: what span start and end times take.
 * `performance.timeOrigin + performance.now()` follows the system clock to the microsecond (the
 * monotonic clock is slewed with it); only a step of the system clock would part them, so each
 * call checks against `Date.now()` and re-anchors when they differ by more than the millisecond
 * `Date.now()` truncates.
 */
export function epochNow(): number {
  const now = origin + performance.now();
  const wall = Date.now();
  if (now < wall - 1 || now > wall + 2) {
    origin = wall + 0.5 - performance.now();
    return wall + 0.5;
  }
  return now;
}

let origin = performance.timeOrigin;
