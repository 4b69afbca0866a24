/**
 * The concurrency cap: free slots are granted at once, waiters are served first come first
 * served as slots free up, and a waiter gives up after its queue timeout or when its client goes.
 */
import assert from "node:assert/strict";
import { Limiter } from "../../src/routing/limiter.ts";

Deno.test("limiter: grants free slots at once and counts them", async () => {
  const limiter = new Limiter(2);
  const a = await limiter.acquire(0);
  const b = await limiter.acquire(0);
  assert.ok(a && b);
  assert.equal(limiter.active, 2);
  assert.equal(await limiter.acquire(0), undefined, "full, and no time to wait");
  a();
  a(); // releasing twice frees one slot only
  assert.equal(limiter.active, 1);
  b();
  assert.equal(limiter.active, 0);
});

Deno.test("limiter: waiters are granted in FIFO order as slots free up", async () => {
  const limiter = new Limiter(1);
  const first = (await limiter.acquire(0))!;
  const order: string[] = [];
  const waiters = ["w1", "w2", "w3"].map((name) =>
    limiter.acquire(1_000).then((release) => {
      order.push(name);
      return release!;
    })
  );
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, [], "nobody is granted while the slot is held");
  first();
  const w1 = await waiters[0];
  assert.deepEqual(order, ["w1"]);
  assert.equal(limiter.active, 1);
  w1();
  const w2 = await waiters[1];
  w2();
  const w3 = await waiters[2];
  assert.deepEqual(order, ["w1", "w2", "w3"]);
  w3();
  assert.equal(limiter.active, 0);
});

Deno.test("limiter: a waiter gives up after its queue timeout and leaves the line", async () => {
  const limiter = new Limiter(1);
  const held = (await limiter.acquire(0))!;
  const started = performance.now();
  assert.equal(await limiter.acquire(30), undefined);
  const waited = performance.now() - started;
  assert.ok(waited >= 25 && waited < 500, `waited ${waited} ms`);
  // The one that gave up is not granted later; the next waiter is.
  const next = limiter.acquire(1_000);
  held();
  const release = await next;
  assert.ok(release);
  assert.equal(limiter.active, 1);
  release();
});

Deno.test("limiter: a waiter whose client went away gives up at once", async () => {
  const limiter = new Limiter(1);
  const held = (await limiter.acquire(0))!;
  const gone = new AbortController();
  const waiting = limiter.acquire(5_000, gone.signal);
  gone.abort();
  assert.equal(await waiting, undefined);
  // A signal that is already aborted does not join the line at all.
  const started = performance.now();
  assert.equal(await limiter.acquire(5_000, gone.signal), undefined);
  assert.ok(performance.now() - started < 100);
  held();
  assert.equal(limiter.active, 0, "no slot went to a client that had left");
});
