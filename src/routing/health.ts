/**
 * Live per-route health: recent outcomes (error rate, latency and time-to-first-token
 * percentiles) and a circuit breaker (opens after N consecutive failures, lets one probe through
 * after a cool-down). The numbers feed `routes.<name>.health` in the facts, so a policy can route
 * around a slow or failing provider; the breaker makes execution skip a route that is down.
 */
import type { RouteHealth } from "../facts/facts.ts";

/** How one attempt ended, as health sees it. */
export interface AttemptSample {
  ok: boolean;
  /** Whether a failure says something about the route (a client's bad request does not). */
  countsAgainstRoute: boolean;
  latencyMs: number;
  ttftMs?: number;
  at: number;
}

export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

/** Outcomes kept per route, and how far back they count. */
const WINDOW_SAMPLES = 512;
const WINDOW_MS = 5 * 60_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[index] * 10) / 10;
}

/** One route's recent outcomes and its breaker. */
export class RouteHealthTracker {
  readonly #settings: BreakerSettings;
  readonly #clock: () => number;
  #samples: AttemptSample[] = [];
  #next = 0;
  #consecutiveFailures = 0;
  #state: RouteHealth["circuit"] = "closed";
  #openedAt = 0;
  #probeInFlight = false;
  #dirty = true;
  /** When the oldest sample in the snapshot leaves the window (the snapshot is stale then). */
  #expiresAt = Infinity;
  #snapshot: RouteHealth = {
    error_rate: 0,
    requests: 0,
    p50_ms: 0,
    p95_ms: 0,
    ttft_p50_ms: 0,
    circuit: "closed",
  };

  constructor(settings: BreakerSettings, clock: () => number = Date.now) {
    this.#settings = settings;
    this.#clock = clock;
  }

  /** The breaker's state, moving open → half-open once the cool-down has passed. */
  get circuit(): RouteHealth["circuit"] {
    if (this.#state === "open" && this.#clock() - this.#openedAt >= this.#settings.openMs) {
      this.#state = "half_open";
      this.#probeInFlight = false;
      this.#dirty = true;
    }
    return this.#state;
  }

  /**
   * Asks to send an attempt. Closed: yes. Open: no. Half-open: yes for exactly one probe at a
   * time; its outcome closes or re-opens the breaker.
   */
  tryAcquire(): boolean {
    const state = this.circuit;
    if (state === "closed") return true;
    if (state === "open" || this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** Records an attempt's outcome. */
  record(sample: AttemptSample): void {
    if (this.#samples.length < WINDOW_SAMPLES) this.#samples.push(sample);
    else this.#samples[this.#next] = sample;
    this.#next = (this.#next + 1) % WINDOW_SAMPLES;
    this.#dirty = true;
    if (sample.ok || !sample.countsAgainstRoute) {
      if (sample.ok) this.#consecutiveFailures = 0;
      if (this.#state === "half_open" && this.#probeInFlight) {
        this.#probeInFlight = false;
        if (sample.ok) this.#state = "closed";
      }
      return;
    }
    this.#consecutiveFailures++;
    if (
      this.#state === "half_open" || this.#consecutiveFailures >= this.#settings.failureThreshold
    ) {
      this.#state = "open";
      this.#openedAt = sample.at;
      this.#probeInFlight = false;
    }
  }

  /** Releases a probe slot that ended without an outcome (the client went away). */
  releaseProbe(): void {
    this.#probeInFlight = false;
  }

  /**
   * Health facts, recomputed only when something changed: a new sample, a circuit move, or a
   * sample ageing out of the window. The last matters because a policy that routes around a
   * failing route sends it no traffic, so its numbers must recover without new samples.
   */
  snapshot(): RouteHealth {
    const circuit = this.circuit;
    const now = this.#clock();
    if (!this.#dirty && now < this.#expiresAt) return this.#snapshot;
    const since = now - WINDOW_MS;
    const recent = this.#samples.filter((s) => s.at >= since && (s.ok || s.countsAgainstRoute));
    this.#expiresAt = recent.reduce((min, s) => Math.min(min, s.at + WINDOW_MS + 1), Infinity);
    const latencies = recent.filter((s) => s.ok).map((s) => s.latencyMs).sort((a, b) => a - b);
    const ttfts = recent.filter((s) => s.ok && s.ttftMs !== undefined).map((s) => s.ttftMs!)
      .sort((a, b) => a - b);
    const failures = recent.length - latencies.length;
    this.#snapshot = {
      error_rate: recent.length ? Math.round((failures / recent.length) * 1000) / 1000 : 0,
      requests: recent.length,
      p50_ms: percentile(latencies, 0.5),
      p95_ms: percentile(latencies, 0.95),
      ttft_p50_ms: percentile(ttfts, 0.5),
      circuit,
    };
    this.#dirty = false;
    return this.#snapshot;
  }
}

/** Every route's tracker, by route name; kept across policy reloads. */
export class HealthBoard {
  readonly #trackers = new Map<string, RouteHealthTracker>();
  readonly #settings: BreakerSettings;
  readonly #clock: () => number;

  constructor(settings: BreakerSettings, clock: () => number = Date.now) {
    this.#settings = settings;
    this.#clock = clock;
  }

  /** The tracker for a route, created on first use. */
  route(name: string): RouteHealthTracker {
    let tracker = this.#trackers.get(name);
    if (!tracker) {
      tracker = new RouteHealthTracker(this.#settings, this.#clock);
      this.#trackers.set(name, tracker);
    }
    return tracker;
  }

  /** Writes current health into route facts (in place; the objects are shared per policy). */
  refresh(routes: Record<string, { health: RouteHealth }>): void {
    for (const [name, facts] of Object.entries(routes)) {
      facts.health = this.route(name).snapshot();
    }
  }
}
