import assert from "node:assert/strict";
import { DeadlineWheel } from "../../src/routing/deadlines.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("deadline wheel: fires what is due, once, and never what was removed", async () => {
  const wheel = new DeadlineWheel(5);
  const fired: string[] = [];
  const now = performance.now();
  wheel.add(now + 10, () => fired.push("soon"));
  const removed = wheel.add(now + 10, () => fired.push("removed"));
  const moved = wheel.add(now + 10_000, () => fired.push("moved"));
  wheel.add(now + 10_000, () => fired.push("late"));
  wheel.remove(removed);
  wheel.remove(removed); // a second remove changes nothing
  moved.at = now + 20; // moving a deadline is setting `at`
  assert.equal(wheel.size, 3);
  await sleep(80);
  assert.deepEqual(fired.sort(), ["moved", "soon"]);
  assert.equal(wheel.size, 1);
  assert.equal(wheel.ticking, true);
});

Deno.test("deadline wheel: slots are reused, a fired deadline's remove is a no-op, the timer stops", async () => {
  const wheel = new DeadlineWheel(5);
  let fires = 0;
  // Churn like requests do: add, remove, in waves, with some left to fire.
  const live = [];
  for (let wave = 0; wave < 50; wave++) {
    for (let i = 0; i < 20; i++) live.push(wheel.add(performance.now() + 60_000, () => fires++));
    while (live.length > 1) wheel.remove(live.pop()!);
    wheel.remove(live.pop()!);
  }
  assert.equal(wheel.size, 0);
  const due = wheel.add(performance.now(), () => fires++);
  const other = wheel.add(performance.now() + 60_000, () => fires++);
  // A removed slot is handed out again: the newest add takes the most recently freed one.
  wheel.remove(other);
  const reused = wheel.add(performance.now() + 1, () => fires++);
  assert.equal(wheel.size, 2);
  await sleep(40);
  assert.equal(fires, 2);
  wheel.remove(due); // already fired: must not free its slot a second time
  wheel.remove(reused);
  assert.equal(wheel.size, 0);
  assert.equal(wheel.ticking, false, "the timer stops once nothing is pending");
  // Two adds after the stray removes must get two distinct slots (a double free would alias).
  let a = 0, b = 0;
  wheel.add(performance.now(), () => a++);
  wheel.add(performance.now(), () => b++);
  await sleep(40);
  assert.deepEqual([a, b], [1, 1]);
});
