/**
 * Route health on a fake clock: the circuit breaker's states (closed → open after N consecutive
 * failures → half-open with exactly one probe → closed or open again), failures that are not the
 * route's fault, and the numbers the policy sees (error rate, p50/p95 latency, p50 TTFT).
 */
import assert from "node:assert/strict";
import { HealthBoard, RouteHealthTracker } from "../../src/routing/health.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms };
}

const SETTINGS = { failureThreshold: 3, openMs: 1_000 };

function tracker() {
  const clock = fakeClock();
  const t = new RouteHealthTracker(SETTINGS, clock.now);
  const ok = (latencyMs = 100, ttftMs?: number) =>
    t.record({ ok: true, countsAgainstRoute: false, latencyMs, ttftMs, at: clock.now() });
  const fail = (countsAgainstRoute = true) =>
    t.record({ ok: false, countsAgainstRoute, latencyMs: 50, at: clock.now() });
  return { t, clock, ok, fail };
}

Deno.test("health: the breaker opens after N consecutive failures and refuses attempts", () => {
  const { t, fail } = tracker();
  fail();
  fail();
  assert.equal(t.circuit, "closed");
  assert.equal(t.tryAcquire(), true);
  fail();
  assert.equal(t.circuit, "open");
  assert.equal(t.tryAcquire(), false);
  assert.equal(t.snapshot().circuit, "open");
});

Deno.test("health: a success resets the run of consecutive failures", () => {
  const { t, ok, fail } = tracker();
  fail();
  fail();
  ok();
  fail();
  fail();
  assert.equal(t.circuit, "closed", "two failures since the last success");
  fail();
  assert.equal(t.circuit, "open");
});

Deno.test("health: client errors do not count against the route", () => {
  const { t, fail } = tracker();
  for (let i = 0; i < 10; i++) fail(false);
  assert.equal(t.circuit, "closed");
  const snapshot = t.snapshot();
  assert.equal(snapshot.requests, 0, "they are not the route's outcomes at all");
  assert.equal(snapshot.error_rate, 0);
});

Deno.test("health: after the cool-down, half-open lets exactly one probe through", () => {
  const { t, clock, fail } = tracker();
  for (let i = 0; i < 3; i++) fail();
  clock.advance(999);
  assert.equal(t.circuit, "open");
  clock.advance(1);
  assert.equal(t.circuit, "half_open");
  assert.equal(t.tryAcquire(), true, "the probe");
  assert.equal(t.tryAcquire(), false, "a second attempt while the probe runs");
  assert.equal(t.tryAcquire(), false);
});

Deno.test("health: a successful probe closes the breaker", () => {
  const { t, clock, ok, fail } = tracker();
  for (let i = 0; i < 3; i++) fail();
  clock.advance(1_000);
  assert.equal(t.tryAcquire(), true);
  ok();
  assert.equal(t.circuit, "closed");
  assert.equal(t.tryAcquire(), true);
  assert.equal(t.tryAcquire(), true, "closed: no limit on attempts");
});

Deno.test("health: a failed probe re-opens the breaker for another cool-down", () => {
  const { t, clock, fail } = tracker();
  for (let i = 0; i < 3; i++) fail();
  clock.advance(1_000);
  assert.equal(t.tryAcquire(), true);
  fail();
  assert.equal(t.circuit, "open");
  assert.equal(t.tryAcquire(), false);
  clock.advance(999);
  assert.equal(t.circuit, "open", "the cool-down restarts at the failed probe");
  clock.advance(1);
  assert.equal(t.circuit, "half_open");
});

Deno.test("health: a probe whose client went away frees the probe slot", () => {
  const { t, clock, fail } = tracker();
  for (let i = 0; i < 3; i++) fail();
  clock.advance(1_000);
  assert.equal(t.tryAcquire(), true);
  t.releaseProbe();
  assert.equal(t.circuit, "half_open");
  assert.equal(t.tryAcquire(), true, "another probe may go");
});

Deno.test("health: error rate, p50/p95 latency and p50 time to first token from known samples", () => {
  const { t, ok, fail } = tracker();
  // Latencies 10, 20, … 200 ms; TTFTs 1 … 20 ms.
  for (let i = 1; i <= 20; i++) ok(i * 10, i);
  for (let i = 0; i < 5; i++) fail();
  for (let i = 0; i < 7; i++) fail(false); // client errors: not in the numbers
  const snapshot = t.snapshot();
  assert.equal(snapshot.requests, 25);
  assert.equal(snapshot.error_rate, 0.2);
  assert.equal(snapshot.p50_ms, 100);
  assert.equal(snapshot.p95_ms, 190);
  assert.equal(snapshot.ttft_p50_ms, 10);
  assert.equal(snapshot.circuit, "open", "five failures in a row");
});

Deno.test("health: with no samples every number is zero and the circuit closed", () => {
  const { t } = tracker();
  assert.deepEqual(t.snapshot(), {
    error_rate: 0,
    requests: 0,
    p50_ms: 0,
    p95_ms: 0,
    ttft_p50_ms: 0,
    circuit: "closed",
  });
});

Deno.test("health: samples older than the five-minute window drop out even without new traffic", () => {
  const { t, clock, ok, fail } = tracker();
  fail();
  fail();
  clock.advance(60_000);
  ok(300);
  assert.equal(t.snapshot().error_rate, 0.667);
  // The failures age out. A policy that routes around a failing route sends it no traffic, so the
  // numbers must recover by themselves or the route would be shunned forever.
  clock.advance(4 * 60_000 + 1);
  const later = t.snapshot();
  assert.equal(later.requests, 1);
  assert.equal(later.error_rate, 0);
  clock.advance(60_000);
  assert.equal(t.snapshot().requests, 0);
  assert.equal(t.snapshot().p50_ms, 0);
});

Deno.test("health: the board keeps one tracker per route and writes snapshots into route facts", () => {
  const clock = fakeClock();
  const board = new HealthBoard(SETTINGS, clock.now);
  assert.equal(board.route("a"), board.route("a"));
  for (let i = 0; i < 3; i++) {
    board.route("a").record({ ok: false, countsAgainstRoute: true, latencyMs: 5, at: clock.now() });
  }
  board.route("b").record({ ok: true, countsAgainstRoute: false, latencyMs: 42, at: clock.now() });
  const facts = {
    a: { health: board.route("c").snapshot() },
    b: { health: board.route("c").snapshot() },
  };
  board.refresh(facts);
  assert.equal(facts.a.health.circuit, "open");
  assert.equal(facts.a.health.error_rate, 1);
  assert.equal(facts.b.health.p50_ms, 42);
  assert.equal(facts.b.health.circuit, "closed");
});
