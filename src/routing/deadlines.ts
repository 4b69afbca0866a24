/**
 * Timeouts for requests in flight without a native timer each: one ticking timer checks every
 * pending deadline at a coarse resolution. Creating and clearing a runtime timer per request
 * (and per stream chunk, for idle timeouts) costs more than the check; route timeouts are
 * seconds, so firing up to one tick late is harmless.
 */

/** A pending deadline; move it by setting `at`. */
export interface Deadline {
  /** When it fires, in `performance.now()` milliseconds. */
  at: number;
  readonly fire: () => void;
}

export class DeadlineWheel {
  readonly #resolutionMs: number;
  readonly #pending = new Set<Deadline>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(resolutionMs = 20) {
    this.#resolutionMs = resolutionMs;
  }

  /** Calls `fire` once `performance.now()` reaches `at` (unless removed first). */
  add(at: number, fire: () => void): Deadline {
    const deadline = { at, fire };
    this.#pending.add(deadline);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
      // The wheel alone never keeps the process alive.
      Deno.unrefTimer(this.#timer);
    }
    return deadline;
  }

  remove(deadline: Deadline): void {
    this.#pending.delete(deadline);
  }

  #tick(): void {
    const now = performance.now();
    for (const deadline of this.#pending) {
      if (deadline.at <= now) {
        this.#pending.delete(deadline);
        deadline.fire();
      }
    }
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** The process's wheel for upstream attempts. */
export const deadlines = new DeadlineWheel();
