/**
 * A worker that wakes the load generator just before each request is due. Deno's timers fire
 * ~1–2 ms late (measured here: p50 1.05 ms, p99 2.1–2.8 ms at 1000/s), which would swamp the
 * sub-millisecond differences the benchmark exists to show. `Atomics.wait` sleeps to within
 * microseconds, so this worker posts tick `i` `earlyMs` before request `i` is due and the main
 * thread spins the last few dozen microseconds (lag then measured ≤ 1 µs at p90).
 *
 * Message in: `{ t0, periodMs, count, earlyMs }`, with `t0` on the absolute clock
 * (`performance.timeOrigin + performance.now()`, since the two threads' origins differ).
 * Messages out: -1 once loaded (ready for a plan), then the index of each tick, in order.
 */

/** What the ticker needs to know. */
export interface TickerPlan {
  t0: number;
  periodMs: number;
  count: number;
  earlyMs: number;
}

const self = globalThis as unknown as {
  onmessage: ((event: MessageEvent<TickerPlan>) => void) | null;
  postMessage(message: number): void;
};

self.onmessage = (event) => {
  const { t0, periodMs, count, earlyMs } = event.data;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    const wakeAt = t0 + i * periodMs - earlyMs;
    for (;;) {
      const wait = wakeAt - (performance.timeOrigin + performance.now());
      if (wait <= 0) break;
      Atomics.wait(cell, 0, 0, wait);
    }
    self.postMessage(i);
  }
};
self.postMessage(-1);
