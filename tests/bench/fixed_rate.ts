/**
 * The open-loop, fixed-rate phase: request `i` is due at `t0 + i/rate` whatever earlier requests
 * are doing, and its latency counts from that intended time, so a target that stalls is charged
 * for every request it held up (no coordinated omission). A request goes out on an idle
 * connection, a new one (up to `maxInFlight`), or waits in a FIFO for the next free one (counted
 * in `queued`). Bounded in count (`rate × (warmup + seconds)`) and in time: requests not done
 * `graceSeconds` after the schedule ends count as `dropped`.
 */
import type { Client, ClientFactory } from "./http_client.ts";
import { quantilesUs } from "./stats.ts";
import type { TickerPlan } from "./ticker.ts";

/** How one fixed-rate run is shaped. */
export interface FixedRateOptions {
  open: ClientFactory;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  maxInFlight: number;
  graceSeconds: number;
}

/** One fixed-rate run's figures; latencies in µs, measured requests only (after the warm-up). */
export interface FixedRateResult {
  rate: number;
  /** Measured requests completed per second of schedule. */
  achieved: number;
  measured: number;
  p50: number;
  p99: number;
  /** Write-to-end time without the wait for a connection (for comparison only). */
  serviceP50: number;
  serviceP99: number;
  errors: number;
  queued: number;
  dropped: number;
  connections: number;
  /**
   * CPU time (user + system, every thread) the target's server process used during the run, per
   * request scheduled (warm-up included), in µs; absent where it cannot be read.
   */
  serverCpuUs?: number;
}

/** How early the ticker wakes the main thread, which then spins until the due time. */
const EARLY_MS = 0.2;

/** Runs one fixed-rate phase against one target. */
export async function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const periodMs = 1000 / options.rate;
  const warmup = Math.round(options.rate * options.warmupSeconds);
  const count = warmup + Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  const service: number[] = [];
  let errors = 0;
  let queued = 0;
  let completed = 0;
  let opened = 0;
  const idle: Client[] = [];
  const all: Client[] = [];
  const waiting: number[] = [];
  const allDone = Promise.withResolvers<void>();
  /** Set once the ticker has loaded, so the first requests are not sent late. */
  let t0 = NaN;
  const due = (i: number) => t0 + i * periodMs;

  // Two connections ready before the clock starts; the warm-up opens the rest it needs.
  for (let k = 0; k < Math.min(2, options.maxInFlight); k++) {
    const client = await options.open();
    opened++;
    all.push(client);
    idle.push(client);
  }
  let stopped = false;
  const finish = (i: number, ok: boolean, end: number, sent: number) => {
    if (stopped) return;
    if (i >= warmup) {
      if (ok) {
        latencies.push(end - due(i));
        service.push(end - sent);
      } else {
        errors++;
      }
    }
    if (++completed === count) allDone.resolve();
  };
  const run = (client: Client, i: number) => {
    client.exchange().then(
      (ex) => finish(i, ex.status === 200, ex.end, ex.sent),
      () => {
        client.close();
        finish(i, false, NaN, NaN);
      },
    ).finally(() => {
      if (stopped) return;
      const next = waiting.shift();
      if (next !== undefined) run(client, next);
      else idle.push(client);
    });
  };
  const dispatch = (i: number) => {
    if (stopped) return;
    const client = idle.pop();
    if (client) return run(client, i);
    if (opened < options.maxInFlight) {
      opened++;
      options.open().then((c) => {
        all.push(c);
        if (stopped) c.close();
        else run(c, i);
      }, () => finish(i, false, NaN, NaN));
      return;
    }
    if (i >= warmup) queued++;
    waiting.push(i);
  };

  const ticker = new Worker(new URL("./ticker.ts", import.meta.url), { type: "module" });
  const tickerFailed = Promise.withResolvers<never>();
  const tickerReady = Promise.withResolvers<void>();
  ticker.onerror = (event) => {
    // Handled here, so the run stops its servers instead of dying with them still running.
    event.preventDefault();
    tickerFailed.reject(new Error(`The ticker worker failed: ${event.message}`));
  };
  ticker.onmessage = (event: MessageEvent<number>) => {
    const i = event.data;
    if (i < 0) return tickerReady.resolve();
    const at = due(i);
    while (performance.now() < at) {
      // Spin the last ~EARLY_MS: timers cannot wake us this precisely.
    }
    dispatch(i);
  };

  const deadline = count * periodMs + 5 + options.graceSeconds * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([tickerReady.promise, tickerFailed.promise]);
    t0 = performance.now() + 5;
    const plan: TickerPlan = {
      t0: performance.timeOrigin + t0,
      periodMs,
      count,
      earlyMs: EARLY_MS,
    };
    ticker.postMessage(plan);
    await Promise.race([
      allDone.promise,
      tickerFailed.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, deadline)),
    ]);
  } finally {
    clearTimeout(timer);
    stopped = true;
    ticker.terminate();
    for (const client of all) client.close();
  }
  const measured = count - warmup;
  const dropped = measured - latencies.length - errors;
  const q = quantilesUs(latencies);
  const s = quantilesUs(service);
  return {
    rate: options.rate,
    achieved: latencies.length / options.seconds,
    measured,
    p50: q.p50,
    p99: q.p99,
    serviceP50: s.p50,
    serviceP99: s.p99,
    errors,
    queued,
    dropped: Math.max(0, dropped),
    connections: opened,
  };
}
