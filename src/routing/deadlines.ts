/**
 * Timeouts for requests in flight without a native timer each: one ticking timer checks every
 * pending deadline at a coarse resolution. Creating and clearing a runtime timer per request
 * (and per stream chunk, for idle timeouts) costs more than the check; route timeouts are
 * seconds, so firing up to one tick late is harmless.
 *
 * Pending deadlines sit in slots of an array that only grows (to the most ever in flight at
 * once), with a stack of free slots. A `Set` was simpler, but a long-lived `Set` that empties
 * and fills again with every request rebuilds its hash table each time it empties, and V8
 * allocates the table of an old object straight in the old generation: a few hundred bytes of
 * old-generation garbage per request, which brings the next full collection closer.
 */

/** A pending deadline; move it by setting `at`. */
export interface Deadline {
  /** When it fires, in `performance.now()` milliseconds. */
  at: number;
  readonly fire: () => void;
}

interface Slotted extends Deadline {
  /** Its index in the wheel's slots; -1 once fired or removed. */
  slot: number;
}

export class DeadlineWheel {
  readonly #resolutionMs: number;
  readonly #slots: (Slotted | undefined)[] = [];
  /** Free slot indexes as a stack; `#freeCount` is its height (the array never shrinks). */
  readonly #free: number[] = [];
  #freeCount = 0;
  #pending = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(resolutionMs = 20) {
    this.#resolutionMs = resolutionMs;
  }

  /** How many deadlines are pending. */
  get size(): number {
    return this.#pending;
  }

  /** Whether the ticking timer runs (it stops once nothing is pending). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /** Calls `fire` once `performance.now()` reaches `at` (unless removed first). */
  add(at: number, fire: () => void): Deadline {
    const slot = this.#freeCount > 0 ? this.#free[--this.#freeCount] : this.#slots.length;
    const deadline: Slotted = { at, fire, slot };
    this.#slots[slot] = deadline;
    this.#pending++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
      // The wheel alone never keeps the process alive.
      Deno.unrefTimer(this.#timer);
    }
    return deadline;
  }

  /** Forgets `deadline` (a no-op when it has fired or was removed already). */
  remove(deadline: Deadline): void {
    const slotted = deadline as Slotted;
    if (slotted.slot < 0 || this.#slots[slotted.slot] !== slotted) return;
    this.#slots[slotted.slot] = undefined;
    this.#free[this.#freeCount++] = slotted.slot;
    slotted.slot = -1;
    this.#pending--;
  }

  #tick(): void {
    const now = performance.now();
    // Slots appended by a `fire` wait for the next tick; one it adds into a freed slot further on
    // may be checked in this one, which only fires it if it is already due.
    for (let i = 0, n = this.#slots.length; i < n; i++) {
      const deadline = this.#slots[i];
      if (deadline !== undefined && deadline.at <= now) {
        this.remove(deadline);
        deadline.fire();
      }
    }
    if (this.#pending === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** The process's wheel for upstream attempts. */
export const deadlines = new DeadlineWheel();
