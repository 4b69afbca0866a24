import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFleet } from "../../src/sim/fleet.ts";
import type { FleetOptions } from "../../src/sim/fleet.ts";
import { SseParser } from "../../src/upstream/sse.ts";
import { openrouterAdapter } from "../../src/upstream/openrouter/index.ts";
import type { StreamEvent, UpstreamTarget } from "../../src/upstream/adapter.ts";

const FAST: FleetOptions = {
  latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
  gateway: { processingMs: [1, 2] },
};

function sdk(baseURL: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: "or-key", maxRetries: 0 });
}

/** A gateway completion with OpenRouter's extra fields. */
type GatewayCompletion = OpenAI.ChatCompletion & {
  provider: string;
  usage: OpenAI.CompletionUsage & { cost: number };
};

async function post(
  baseUrl: string,
  body: Record<string, unknown>,
  headers = {},
  signal?: AbortSignal,
) {
  return await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    signal,
    headers: { "content-type": "application/json", authorization: "Bearer or-key", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "Route me" }], ...body }),
  });
}

Deno.test("openrouter sim: the OpenAI SDK reaches Anthropic through the gateway", async () => {
  await using fleet = await startFleet(FAST);
  const completion = await sdk(fleet.baseUrls.openrouter).chat.completions.create({
    model: "anthropic/claude-sonnet-4.5",
    messages: [{ role: "user", content: "Hello via the gateway" }],
  }) as GatewayCompletion;
  assert.equal(completion.model, "anthropic/claude-sonnet-4.5");
  assert.equal(completion.provider, "Anthropic");
  assert.match(completion.id, /^gen-/);
  assert.match(completion.choices[0].message.content ?? "", /Hello via the gateway/);
  assert.ok(completion.usage.cost > 0, "usage.cost is reported");
  const upstream = fleet.sims.anthropic.seen.at(-1)!;
  assert.equal(upstream.path, "/v1/messages");
});

Deno.test("openrouter sim: the OpenAI SDK streams from Gemini through the gateway", async () => {
  await using fleet = await startFleet(FAST);
  const stream = await sdk(fleet.baseUrls.openrouter).chat.completions.create({
    model: "google/gemini-2.5-flash",
    messages: [{ role: "user", content: "Stream via the gateway" }],
    stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.match(text, /Stream via the gateway/);
  const last = chunks.at(-1) as OpenAI.ChatCompletionChunk & { usage: { cost: number } };
  assert.ok(last.usage.cost > 0, "the final chunk carries usage with cost");
  assert.ok(
    chunks.every((c) => (c as unknown as { provider: string }).provider === "Google AI Studio"),
  );
  assert.ok(fleet.sims.gemini.seen.at(-1)!.path.includes(":streamGenerateContent"));
});

Deno.test("openrouter sim: models.list through the OpenAI SDK lists prefixed ids", async () => {
  await using fleet = await startFleet(FAST);
  const ids = [];
  for await (const model of sdk(fleet.baseUrls.openrouter).models.list()) ids.push(model.id);
  assert.ok(ids.includes("openai/gpt-4o-mini"));
  assert.ok(ids.includes("mistralai/mistral-small"));
});

Deno.test("openrouter sim: streams carry keep-alive comments the adapter drops", async () => {
  await using fleet = await startFleet({
    ...FAST,
    latency: { ttft_ms: 60, tokens_per_s: 4000, jitter: 0 },
    gateway: { processingMs: [1, 2], keepAliveMs: 20 },
  });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    stream: true,
  });
  const [wire, translated] = response.body!.tee();
  const target: UpstreamTarget = {
    route: "r",
    provider: "openrouter",
    model: "openai/gpt-4o-mini",
    baseUrl: fleet.baseUrls.openrouter,
    apiKey: "",
  };
  const events: StreamEvent[] = [];
  const reading = (async () => {
    const stream = translated.pipeThrough(new SseParser())
      .pipeThrough(openrouterAdapter.stream(target, { includeUsage: true }));
    for await (const event of stream) events.push(event);
  })();
  const text = await new Response(wire).text();
  await reading;
  assert.ok(
    (text.match(/^: OPENROUTER PROCESSING$/gm) ?? []).length >= 2,
    "comments while waiting",
  );
  assert.deepEqual(events.at(-1), { type: "done" });
  const chunks = events.filter((e) => e.type === "chunk");
  assert.ok(chunks.every((e) => e.type === "chunk" && !e.data.includes("OPENROUTER")));
  assert.ok(chunks.some((e) => e.type === "chunk" && e.servedBy === "OpenAI"));
});

Deno.test("openrouter sim: a failing model falls back to the next in `models`", async () => {
  await using fleet = await startFleet({
    ...FAST,
    providers: { openai: { models: { "gpt-4o-mini": { fault: { mode: "error" } } } } },
  });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    models: ["mistralai/mistral-small"],
  });
  const body = await response.json();
  assert.equal(response.status, 200);
  assert.equal(body.model, "mistralai/mistral-small");
  assert.equal(body.provider, "Mistral");
  // Both OpenAI endpoints were tried before the fallback model.
  assert.equal(fleet.sims.openai.seen.filter((s) => s.method === "POST").length, 2);
  assert.equal(fleet.sims.mistral.seen.at(-1)!.path, "/v1/chat/completions");
});

Deno.test("openrouter sim: provider order, only and ignore pick the serving provider", async () => {
  await using fleet = await startFleet(FAST);
  const served = async (provider: Record<string, unknown>) =>
    (await (await post(fleet.baseUrls.openrouter, { model: "openai/gpt-4o-mini", provider }))
      .json()).provider;
  assert.equal(await served({}), "OpenAI");
  assert.equal(await served({ order: ["azure"] }), "Azure");
  assert.equal(await served({ only: ["Azure"] }), "Azure");
  assert.equal(await served({ ignore: ["openai"] }), "Azure");
  const none = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    provider: { only: ["anthropic"] },
  });
  assert.equal(none.status, 404);
  await none.body?.cancel();
});

Deno.test("openrouter sim: without fallbacks a failing provider is a 502 with metadata", async () => {
  await using fleet = await startFleet({
    ...FAST,
    providers: { openai: { fault: { mode: "error" } } },
  });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    provider: { order: ["openai"], allow_fallbacks: false },
  });
  const body = await response.json();
  assert.equal(response.status, 502);
  assert.equal(body.error.code, 502);
  assert.equal(body.error.metadata.provider_name, "OpenAI");
  assert.equal(fleet.sims.openai.seen.filter((s) => s.method === "POST").length, 1);
});

Deno.test("openrouter sim: a provider's 429 stays a 429 with Retry-After", async () => {
  await using fleet = await startFleet({
    ...FAST,
    providers: { mistral: { fault: { mode: "rate_limit", retry_after_s: 4 } } },
  });
  const response = await post(fleet.baseUrls.openrouter, { model: "mistralai/mistral-small" });
  await response.body?.cancel();
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "4");
});

Deno.test("openrouter sim: a provider cut mid-stream arrives as an SSE error event", async () => {
  await using fleet = await startFleet({
    ...FAST,
    providers: { openai: { fault: { mode: "mid_stream_cut", after_chunks: 2 } } },
  });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    stream: true,
  });
  assert.equal(response.status, 200);
  const events: StreamEvent[] = [];
  const target = {
    route: "r",
    provider: "openrouter" as const,
    model: "m",
    baseUrl: "",
    apiKey: "",
  };
  const stream = response.body!.pipeThrough(new SseParser())
    .pipeThrough(openrouterAdapter.stream(target, { includeUsage: true }));
  for await (const event of stream) events.push(event);
  const error = events.find((e) => e.type === "error");
  assert.ok(error && error.type === "error");
  assert.equal(error.error.kind, "error_in_body");
  assert.ok(events.some((e) => e.type === "chunk" && e.content));
});

Deno.test("openrouter sim: traceparent and app headers travel as OpenRouter expects", async () => {
  await using fleet = await startFleet(FAST);
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const response = await post(fleet.baseUrls.openrouter, { model: "openai/gpt-4o-mini" }, {
    traceparent,
    "HTTP-Referer": "https://switchyard.example",
    "X-Title": "Switchyard",
  });
  await response.body?.cancel();
  assert.equal(fleet.sims.openai.seen.at(-1)!.headers.traceparent, traceparent);
  const atGateway = fleet.sims.openrouter.seen.at(-1)!.headers;
  assert.equal(atGateway["http-referer"], "https://switchyard.example");
  assert.equal(atGateway["x-title"], "Switchyard");
});

Deno.test("openrouter sim: generation stats separate the gateway's time from generation", async () => {
  await using fleet = await startFleet({ ...FAST, gateway: { processingMs: [30, 30] } });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
  }, { "HTTP-Referer": "https://app.example" });
  const body = await response.json();
  const id = response.headers.get("x-generation-id");
  assert.equal(id, body.id);
  const stats = await (await fetch(`${fleet.baseUrls.openrouter}/generation?id=${id}`, {
    headers: { authorization: "Bearer or-key" },
  })).json();
  assert.equal(stats.data.provider_name, "OpenAI");
  assert.equal(stats.data.total_cost, body.usage.cost);
  assert.equal(stats.data.streamed, false);
  assert.equal(stats.data.cancelled, false);
  assert.equal(stats.data.origin, "https://app.example");
  assert.equal(stats.data.tokens_completion, body.usage.completion_tokens);
  assert.ok(stats.data.latency - stats.data.generation_time >= 29, "the gateway's own 30ms show");
});

Deno.test("openrouter sim: stats appear only after the configured delay", async () => {
  await using fleet = await startFleet({
    ...FAST,
    gateway: { processingMs: [1, 1], statsDelayMs: 80 },
  });
  const response = await post(fleet.baseUrls.openrouter, {
    model: "openai/gpt-4o-mini",
    stream: true,
  });
  await response.text();
  const stats = () =>
    fetch(`${fleet.baseUrls.openrouter}/generation?id=${response.headers.get("x-generation-id")}`);
  const early = await stats();
  assert.equal(early.status, 404);
  await early.body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const later = await (await stats()).json();
  assert.equal(later.data.streamed, true);
});

Deno.test("openrouter sim: a client leaving mid-stream is logged as cancelled", async () => {
  await using fleet = await startFleet({
    latency: { ttft_ms: 2, tokens_per_s: 100, jitter: 0 },
    gateway: { processingMs: [1, 1] },
  });
  const client = new AbortController();
  const response = await post(
    fleet.baseUrls.openrouter,
    {
      model: "openai/gpt-4o-mini",
      stream: true,
    },
    {},
    client.signal,
  );
  const reader = response.body!.getReader();
  let text = "";
  while (!text.includes('"content":"')) {
    text += new TextDecoder().decode((await reader.read()).value);
  }
  client.abort();
  await reader.cancel().catch(() => {});
  const id = response.headers.get("x-generation-id");
  let stats;
  for (let i = 0; i < 50 && !stats?.data; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    stats = await (await fetch(`${fleet.baseUrls.openrouter}/generation?id=${id}`)).json();
  }
  assert.equal(stats.data.cancelled, true);
  assert.equal(stats.data.streamed, true);
});
