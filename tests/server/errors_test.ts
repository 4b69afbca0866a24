import assert from "node:assert/strict";
import OpenAI from "openai";
import { chat, hello, startTestServer } from "./harness.ts";

async function errorOf(response: Response) {
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  for (const field of ["message", "type", "param", "code"]) assert.ok(field in body.error, field);
  return body.error;
}

Deno.test("errors: malformed JSON is a 400 invalid_json", async () => {
  await using server = await startTestServer();
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"model": "auto", "messages": [',
  });
  assert.equal(response.status, 400);
  const error = await errorOf(response);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "invalid_json");
  assert.match(error.message, /not valid JSON/);
  assert.ok(response.headers.get("x-request-id"));
});

Deno.test("errors: an invalid body is a 400 naming the field", async () => {
  await using server = await startTestServer();
  const cases: [Record<string, unknown>, string][] = [
    [{ model: "auto" }, "messages"],
    [{ model: "auto", messages: [] }, "messages"],
    [{ model: "auto", messages: [{ role: "user", content: "hi" }], temperature: 7 }, "temperature"],
    [{ model: "auto", messages: [{ role: "wizard", content: "hi" }] }, "messages.0.role"],
    [{ messages: [{ role: "user", content: "hi" }] }, "model"],
  ];
  for (const [body, param] of cases) {
    const response = await chat(server, body);
    assert.equal(response.status, 400, JSON.stringify(body));
    const error = await errorOf(response);
    assert.equal(error.param, param, error.message);
  }
});

Deno.test("errors: an unknown model is a 404 model_not_found; the SDK raises NotFoundError", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({
      model: "llama-3",
      messages: [{ role: "user", content: "x" }],
    }),
    (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found",
  );
});

Deno.test("errors: a body over the limit is a 413, checked on the bytes received", async () => {
  await using server = await startTestServer({ config: { maxBodyBytes: 2048 } });
  const big = hello({}, "x".repeat(4096));
  const response = await chat(server, big);
  assert.equal(response.status, 413);
  assert.equal((await errorOf(response)).code, "request_too_large");
  // Chunked, without content-length: the limit still holds.
  const chunks = new TextEncoder().encode(JSON.stringify(big));
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < chunks.length; i += 512) controller.enqueue(chunks.slice(i, i + 512));
      controller.close();
    },
  });
  const chunked = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  });
  assert.equal(chunked.status, 413);
  await chunked.body?.cancel();
});

Deno.test("errors: unknown endpoints are 404 and wrong methods 405, in OpenAI's shape", async () => {
  await using server = await startTestServer();
  const missing = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
  assert.equal(missing.status, 404);
  assert.equal((await errorOf(missing)).code, "unknown_url");
  const wrong = await fetch(`${server.url}/v1/chat/completions`);
  assert.equal(wrong.status, 405);
  await wrong.body?.cancel();
});

Deno.test("errors: when no route can serve, a 503 lists every attempt and why", async () => {
  await using server = await startTestServer();
  for (
    const sim of [server.fleet.sims.openai, server.fleet.sims.openrouter, server.fleet.sims.mistral]
  ) {
    sim.configure({ ...sim.state.options, fault: { mode: "error" } });
  }
  const response = await chat(server, hello());
  assert.equal(response.status, 503);
  const error = await errorOf(response);
  assert.equal(error.code, "no_route_available");
  assert.match(error.message, /openai: server_error/);
  assert.match(error.message, /gateway: /);
  assert.match(error.message, /mistral: server_error/);
  assert.deepEqual(error.attempts.map((a: { route: string }) => a.route), [
    "openai",
    "gateway",
    "mistral",
  ]);
  assert.equal(response.headers.get("x-switchyard-attempts"), "3");
  assert.equal(response.headers.get("retry-after"), "1");
});
