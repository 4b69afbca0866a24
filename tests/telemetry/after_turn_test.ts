import assert from "node:assert/strict";
import { afterThisTurn, epochNow } from "../../src/telemetry/after_turn.ts";

Deno.test("afterThisTurn: tasks run later, in order, and one that throws does not stop the rest", async () => {
  const ran: number[] = [];
  afterThisTurn(() => ran.push(1));
  afterThisTurn(() => {
    throw new Error("a broken exporter");
  });
  afterThisTurn(() => ran.push(3));
  await Promise.resolve();
  assert.deepEqual(ran, [], "not within the same turn, microtasks included");
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(ran, [1, 3]);
});

Deno.test("afterThisTurn: work queued by a handler does not delay its response", async () => {
  // The queued task is 400 ms of CPU on the server's thread: had it run before the response was
  // written, the client (another process, so it is not blocked with the server) would wait.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    afterThisTurn(() => {
      const until = performance.now() + 400;
      while (performance.now() < until) Math.sqrt(Math.random());
    });
    return new Response("answered");
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const client = `
      await (await fetch("${url}")).text(); // a first request opens the connection
      await new Promise((resolve) => setTimeout(resolve, 700)); // and its task finishes
      const started = performance.now();
      const text = await (await fetch("${url}")).text();
      console.log(JSON.stringify({ text, ms: performance.now() - started }));`;
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", client],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(success);
    const { text, ms } = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(text, "answered");
    assert.ok(ms < 250, `the response waited ${ms.toFixed(0)} ms`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("epochNow: the system clock, to the millisecond Date.now() truncates, and monotonic", () => {
  let last = 0;
  for (let i = 0; i < 1000; i++) {
    const wall = Date.now();
    const now = epochNow();
    assert.ok(now >= wall - 1 && now < Date.now() + 2, `${now} vs ${wall}`);
    assert.ok(now >= last);
    last = now;
  }
});
