/**
 * A cap on concurrent upstream requests. A request that finds every slot taken waits in line for
 * at most `queueTimeoutMs`, then gets a 503 rather than piling onto a saturated process.
 */

export class Limiter {
  readonly #max: number;
  #active = 0;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  get active(): number {
    return this.#active;
  }

  /** A slot now, or undefined when all are taken (no waiting; see `acquire`). */
  tryAcquire(): (() => void) | undefined {
    if (this.#active >= this.#max) return undefined;
    this.#active++;
    return this.#releaser();
  }

  /** Resolves to a release function, or to undefined when no slot freed up in time. */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (this.#active < this.#max) {
      this.#active++;
      return this.#releaser();
    }
    if (timeoutMs <= 0 || signal?.aborted) return undefined;
    return await new Promise((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", giveUp);
      };
      const entry = {
        grant: () => {
          settle();
          this.#active++;
          resolve(this.#releaser());
        },
      };
      const giveUp = () => {
        settle();
        const index = this.#waiting.indexOf(entry);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener("abort", giveUp, { once: true });
      this.#waiting.push(entry);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#waiting.shift()?.grant();
    };
  }
}
