/**
 * Limits: the cap on concurrent upstream requests (a short queue ends in a 503, a long one is
 * served once a slot frees), the request timeout, and the simulation setting (`never` makes
 * keyless routes unavailable, `always` simulates even routes whose key is set).
 */
import assert from "node:assert/strict";
import { chat, hello, sseData, startTestServer, TEST_POLICY } from "./harness.ts";
import { startStubUpstream, type StubUpstream } from "./stub_upstream.ts";

/** One live route to the stub, which holds streams until released. */
function heldPolicy(upstream: StubUpstream, timeouts = ""): string {
  return `
name: limits
version: 1
routes:
  held:
    via: direct
    provider: openai-compatible
    model: held-model
    base_url: ${upstream.origin}/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
${timeouts}default: { route: held }
`;
}

async function errorOf(response: Response) {
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  for (const field of ["message", "type", "param", "code"]) assert.ok(field in body.error, field);
  return body.error;
}

Deno.test("limits: with every upstream slot taken, a request that waits past the queue timeout gets a 503", async () => {
  await using upstream = startStubUpstream({ hold: true });
  await using server = await startTestServer({
    policy: heldPolicy(upstream),
    config: { maxConcurrentUpstream: 1, queueTimeoutMs: 30 },
  });
  const holder = await chat(server, hello({ stream: true }));
  assert.equal(holder.status, 200);

  const started = performance.now();
  const rejected = await chat(server, hello());
  assert.ok(performance.now() - started < 1_000, "the queue timeout bounds the wait");
  assert.equal(rejected.status, 503);
  const error = await errorOf(rejected);
  assert.equal(error.type, "service_unavailable");
  assert.match(error.message, /No upstream slot freed within \d+ ms/);
  assert.equal(upstream.seen.length, 1, "the rejected request never reached the upstream");

  upstream.release();
  assert.equal((await sseData(holder)).at(-1), "[DONE]");
  const after = await chat(server, hello());
  assert.equal(after.status, 200, "the slot is free again once the stream ended");
  await after.body?.cancel();
});

Deno.test("limits: with a long queue timeout, the waiting request is served once the slot frees", async () => {
  await using upstream = startStubUpstream({ hold: true });
  await using server = await startTestServer({
    policy: heldPolicy(upstream),
    config: { maxConcurrentUpstream: 1, queueTimeoutMs: 5_000 },
  });
  const holder = await chat(server, hello({ stream: true }));
  const waiting = chat(server, hello());
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(upstream.seen.length, 1, "the second request waits for the slot");
  upstream.release();
  assert.equal((await sseData(holder)).at(-1), "[DONE]");
  const served = await waiting;
  assert.equal(served.status, 200);
  assert.match((await served.json()).choices[0].message.content, /stub answer/);
  assert.equal(upstream.seen.length, 2);
});

Deno.test("limits: the request timeout cuts a slow stream with an error event and no [DONE]", async () => {
  await using upstream = startStubUpstream({ hold: true });
  await using server = await startTestServer({
    policy: heldPolicy(upstream),
    config: { requestTimeoutMs: 150 },
  });
  const started = performance.now();
  // The first chunk arrives; the stub holds the rest past the deadline.
  const stream = await chat(server, hello({ stream: true }));
  const data = await sseData(stream);
  const tookMs = performance.now() - started;
  assert.ok(tookMs >= 140 && tookMs < 2_000, `ended after ${tookMs} ms`);
  assert.ok(!data.includes("[DONE]"));
  const last = JSON.parse(data.at(-1)!);
  assert.equal(last.error.code, "upstream_timeout_total");
  assert.match(last.error.message, /No response within 1\d\d ms \(timeout_total\)/);
});

Deno.test("limits: the request timeout turns a slow non-streaming upstream into a 503 listing the timeout", async () => {
  await using server = await startTestServer({
    config: { requestTimeoutMs: 150 },
    fleet: {
      latency: { ttft_ms: 2, tokens_per_s: 5000, jitter: 0 },
      providers: { openai: { latency: { ttft_ms: 3_000 } } },
    },
  });
  const started = performance.now();
  const response = await chat(server, hello({ model: "openai" }));
  const tookMs = performance.now() - started;
  assert.equal(response.status, 503);
  assert.ok(tookMs >= 140 && tookMs < 2_000, `answered after ${tookMs} ms`);
  const error = await errorOf(response);
  assert.equal(error.code, "no_route_available");
  assert.match(error.message, /^No route could serve this request\. openai: timeout_total — /);
  assert.match(error.attempts[0].message, /No response within 1\d\d ms \(timeout_total\)/);
  assert.equal(error.attempts[0].outcome, "timeout_total");
});

Deno.test("limits: simulate never without keys makes every route unavailable: a 503 naming the key variable", async () => {
  await using server = await startTestServer({ config: { simulate: "never" } });
  const response = await chat(server, hello());
  assert.equal(response.status, 503);
  const error = await errorOf(response);
  assert.equal(error.code, "no_route_available");
  assert.match(error.message, /openai: skipped \(unavailable\) — OPENAI_API_KEY is not set/);
  assert.match(error.message, /gateway: skipped \(unavailable\) — OPENROUTER_API_KEY is not set/);
  assert.match(error.message, /mistral: skipped \(unavailable\) — MISTRAL_API_KEY is not set/);
  assert.ok(
    error.attempts.every((a: { skipped: boolean }) => a.skipped),
    "nothing was called",
  );
  for (const sim of Object.values(server.fleet.sims)) {
    assert.equal(sim.seen.filter((s) => s.method === "POST").length, 0);
  }
  const models = await (await fetch(`${server.url}/v1/models`)).json();
  const openai = models.data.find((m: { id: string }) => m.id === "openai");
  assert.equal(openai.switchyard.available, false);
});

Deno.test("limits: simulate always uses the simulator even when the route's key is set", async () => {
  await using server = await startTestServer({
    policy: TEST_POLICY,
    config: { simulate: "always" },
    env: { OPENAI_API_KEY: "sk-real-key-never-sent" },
  });
  const response = await chat(server, hello());
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(response.headers.get("x-switchyard-route"), "openai");
  assert.equal(response.headers.get("x-switchyard-simulated"), "true");
  const seen = server.fleet.sims.openai.seen.filter((s) => s.method === "POST");
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.authorization, "Bearer sim-key", "the real key never leaves");
});
