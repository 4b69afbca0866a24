import assert from "node:assert/strict";
import OpenAI from "openai";
import { chat, hello, sseData, startTestServer } from "./harness.ts";

Deno.test("server: the openai SDK gets a completion with routing headers", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({
    model: "auto",
    messages: [{ role: "user", content: "Hello from the SDK" }],
  }).withResponse();
  assert.equal(data.object, "chat.completion");
  assert.match(data.choices[0].message.content ?? "", /Hello from the SDK/);
  assert.equal(data.choices[0].finish_reason, "stop");
  assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
  assert.equal(response.headers.get("x-switchyard-route"), "openai");
  assert.equal(response.headers.get("x-switchyard-rule"), "(default)");
  assert.equal(response.headers.get("x-switchyard-via"), "direct");
  assert.equal(response.headers.get("x-switchyard-attempts"), "1");
  assert.equal(response.headers.get("x-switchyard-simulated"), "true");
  assert.match(response.headers.get("x-switchyard-trace-id") ?? "", /^[0-9a-f]{32}$/);
  assert.match(response.headers.get("x-switchyard-policy") ?? "", /^test@1#[0-9a-f]{12}$/);
  assert.ok(Number(response.headers.get("x-switchyard-overhead-ms")) >= 0);
});

Deno.test("server: --response-headers minimal keeps the routing out of responses", async () => {
  await using server = await startTestServer({ config: { responseHeaders: "minimal" } });
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  for (const stream of [false, true]) {
    const { data, response } = await client.chat.completions.create({
      model: "auto",
      stream,
      messages: [{ role: "user", content: "Hello" }],
    }).withResponse();
    if (stream) { for await (const _ of data as AsyncIterable<unknown>) { /* read it whole */ } }
    const names = [...response.headers.keys()].filter((n) => n.startsWith("x-switchyard-"));
    // The trace id (to find the request) and the simulated flag (the answer is not real) stay.
    assert.deepEqual(names.sort(), ["x-switchyard-simulated", "x-switchyard-trace-id"]);
    assert.match(response.headers.get("x-request-id") ?? "", /\S/);
  }
});

Deno.test("server: the openai SDK streams chunks, with usage when asked", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: "auto",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "Stream to me" }],
  });
  let text = "";
  let usage;
  let finish;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    finish ??= chunk.choices[0]?.finish_reason ?? undefined;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.match(text, /Stream to me/);
  assert.equal(finish, "stop");
  assert.ok(usage && usage.completion_tokens > 0, "the usage chunk reached the client");
});

Deno.test("server: without include_usage the usage chunk is withheld but [DONE] still ends the stream", async () => {
  await using server = await startTestServer();
  const data = await sseData(await chat(server, hello({ stream: true })));
  assert.equal(data.at(-1), "[DONE]");
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.ok(chunks.length >= 3);
  assert.ok(chunks.every((c) => c.choices.length > 0), "no usage-only chunk");
});

Deno.test("server: every provider is reachable through the server, streaming and not", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  for (const route of ["openai", "anthropic", "gemini", "mistral", "gateway"]) {
    const { data, response } = await client.chat.completions.create({
      model: route,
      messages: [{ role: "user", content: `Hi ${route}` }],
    }).withResponse();
    assert.equal(response.headers.get("x-switchyard-route"), route);
    assert.match(data.choices[0].message.content ?? "", new RegExp(`Hi ${route}`));
    const stream = await client.chat.completions.create({
      model: route,
      stream: true,
      messages: [{ role: "user", content: `Stream ${route}` }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.match(text, new RegExp(`Stream ${route}`), route);
  }
});

Deno.test("server: both upstream clients (own HTTP/1.1, fetch) serve every provider the same way, on kept-alive connections", async () => {
  for (const upstreamClient of ["http1", "fetch"] as const) {
    await using server = await startTestServer({ config: { upstreamClient } });
    assert.equal(server.app.context.upstreams.kind, upstreamClient);
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
    for (const route of ["openai", "anthropic", "gemini", "mistral", "gateway"]) {
      for (let i = 0; i < 2; i++) {
        const data = await client.chat.completions.create({
          model: route,
          messages: [{ role: "user", content: `Hi ${route} ${i}` }],
        });
        assert.match(data.choices[0].message.content ?? "", new RegExp(`Hi ${route} ${i}`));
        const stream = await client.chat.completions.create({
          model: route,
          stream: true,
          messages: [{ role: "user", content: `Stream ${route} ${i}` }],
        });
        let text = "";
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
        assert.match(text, new RegExp(`Stream ${route} ${i}`), `${upstreamClient} ${route}`);
      }
    }
    if (upstreamClient === "http1") {
      // Four requests per simulator, one connection each: streams too give theirs back.
      const sims = Object.values(server.fleet.sims);
      const connections = sims.reduce((sum, sim) => sum + sim.connections, 0);
      assert.ok(connections <= sims.length + 1, `${connections} connections`);
    }
  }
});

Deno.test("server: tool calls come back in OpenAI's shape from every provider", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  const tools = [{
    type: "function" as const,
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  }];
  for (const route of ["openai", "anthropic", "gemini", "mistral"]) {
    const data = await client.chat.completions.create({
      model: route,
      tools,
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    const call = data.choices[0].message.tool_calls?.[0];
    assert.equal(data.choices[0].finish_reason, "tool_calls", route);
    assert.ok(call && call.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.equal(typeof JSON.parse(call.function.arguments).city, "string");
  }
});

Deno.test("server: x-request-id is kept, sent upstream and echoed; one is made up otherwise", async () => {
  await using server = await startTestServer();
  const response = await chat(server, hello(), { "x-request-id": "req-abc-123" });
  await response.body?.cancel();
  assert.equal(response.headers.get("x-request-id"), "req-abc-123");
  const seen = server.fleet.sims.openai.seen.at(-1);
  assert.equal(seen?.headers["x-request-id"], "req-abc-123");
  const other = await chat(server, hello());
  await other.body?.cancel();
  assert.match(other.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
});

Deno.test("server: GET /v1/models lists auto and every route in OpenAI's list shape", async () => {
  await using server = await startTestServer();
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ["auto", "openai", "anthropic", "gemini", "mistral", "gateway", "tiny"]);
});

Deno.test("server: POST /v1/route explains the decision without calling an upstream", async () => {
  await using server = await startTestServer();
  const before = server.fleet.sims.anthropic.seen.length;
  const response = await fetch(`${server.url}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-switchyard-tags": "anthropic" },
    body: JSON.stringify(hello()),
  });
  const body = await response.json();
  assert.equal(response.status, 200);
  assert.equal(body.decision.route, "anthropic");
  assert.equal(body.decision.rule, "to-anthropic");
  assert.deepEqual(body.decision.fallbacks, ["openai"]);
  assert.deepEqual(body.decision.trace.map((t: { rule: string }) => t.rule), [
    "pinned",
    "to-anthropic",
  ]);
  assert.equal(body.candidates[0].simulated, true);
  assert.deepEqual(body.facts.tags, ["anthropic"]);
  assert.equal(server.fleet.sims.anthropic.seen.length, before, "no upstream call");
});

Deno.test("server: /v1/policy, /healthz and /readyz report state; draining turns readyz 503", async () => {
  await using server = await startTestServer();
  const policy = await (await fetch(`${server.url}/v1/policy`)).json();
  assert.equal(policy.name, "test");
  assert.match(policy.hash, /^[0-9a-f]{12}$/);
  assert.equal(policy.last_reload_error, null);
  assert.equal((await fetch(`${server.url}/healthz`).then((r) => r.json())).status, "ok");
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  server.app.drain();
  const ready = await fetch(`${server.url}/readyz`);
  await ready.body?.cancel();
  assert.equal(ready.status, 503);
});
