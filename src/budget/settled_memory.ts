/**
 * The ids of recently settled reservations, so a second settle of one is a no-op: at most
 * `capacity` ids, each for at most `SETTLED_MEMORY_MS`, the oldest forgotten first. A ring of ids
 * and times beside a `Set`: remembering, forgetting and looking up are O(1). (A `Map` trimmed
 * from its front would not be: V8 keeps deleted entries as holes that every `keys().next()`
 * walks past, and at the capacity that costs milliseconds per settle.)
 */
import { SETTLED_MEMORY_MS } from "./store.ts";

/** Settled reservation ids, bounded by count and by age. */
export class SettledMemory {
  readonly #ids: (string | undefined)[];
  readonly #times: Float64Array;
  readonly #present = new Set<string>();
  /** Index of the oldest entry, and how many there are. */
  #head = 0;
  #count = 0;

  /** Remembers at most `capacity` ids. */
  constructor(readonly capacity: number) {
    this.#ids = new Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#count;
  }

  /** True when `id` is remembered. */
  has(id: string): boolean {
    return this.#present.has(id);
  }

  /** Remembers `id`, settled at `at` (epoch ms), forgetting the oldest when full. */
  add(id: string, at: number): void {
    if (this.#present.has(id)) return;
    if (this.#count === this.capacity) this.#forgetOldest();
    const slot = (this.#head + this.#count) % this.capacity;
    this.#ids[slot] = id;
    this.#times[slot] = at;
    this.#present.add(id);
    this.#count++;
  }

  /** Forgets ids settled before `now - SETTLED_MEMORY_MS` (settles arrive about in time order). */
  forgetBefore(now: number): void {
    const horizon = now - SETTLED_MEMORY_MS;
    while (this.#count > 0 && this.#times[this.#head] < horizon) this.#forgetOldest();
  }

  /** A copy of every remembered id and when it settled, oldest first (for a snapshot). */
  copy(): { ids: string[]; times: Float64Array } {
    const ids = new Array<string>(this.#count);
    const times = new Float64Array(this.#count);
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head + i) % this.capacity;
      ids[i] = this.#ids[slot]!;
      times[i] = this.#times[slot];
    }
    return { ids, times };
  }

  #forgetOldest(): void {
    this.#present.delete(this.#ids[this.#head]!);
    this.#ids[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
  }
}
