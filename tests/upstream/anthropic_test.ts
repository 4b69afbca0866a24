import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { runConformance } from "./conformance.ts";
import { startSimulator } from "../../src/sim/server.ts";
import type { SimulatorOptions } from "../../src/sim/engine.ts";
import { anthropicAdapter } from "../../src/upstream/anthropic/index.ts";
import { createAnthropicSimulator } from "../../src/sim/anthropic.ts";

runConformance({
  name: "anthropic",
  adapter: anthropicAdapter,
  simulator: createAnthropicSimulator,
  baseUrlPath: "/v1",
  model: "claude-sonnet-5-5",
});

const KEY = "sdk-test-key";
const FAST: SimulatorOptions = { latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 }, seed: 11 };
const MODEL = "claude-sonnet-5-5";

const WEATHER_TOOL: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

/** Starts the simulator (keyed) and an official SDK client pointed at it. */
async function sdkHarness(options: SimulatorOptions = {}) {
  const sim = await startSimulator(createAnthropicSimulator, { ...FAST, apiKey: KEY, ...options });
  const client = new Anthropic({ apiKey: KEY, baseURL: sim.origin, maxRetries: 0 });
  return { sim, client, [Symbol.asyncDispose]: () => sim.close() };
}

Deno.test("anthropic sdk: messages.create parses a simulated message", async () => {
  await using h = await sdkHarness();
  const message = await h.client.messages.create({
    model: MODEL,
    max_tokens: 256,
    system: "You are terse.",
    messages: [{ role: "user", content: "Greet the SDK politely" }],
  });
  assert.equal(message.type, "message");
  assert.equal(message.role, "assistant");
  assert.equal(message.model, MODEL);
  assert.match(message.id, /^msg_/);
  assert.equal(message.stop_reason, "end_turn");
  const [block] = message.content;
  assert.equal(block.type, "text");
  assert.match(block.type === "text" ? block.text : "", /Greet the SDK politely/);
  assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
  // SDK 1.x speaks API version 2026-10-21 and sends the key as a Bearer token.
  const seen = h.sim.seen.at(-1)?.headers ?? {};
  assert.equal(seen["anthropic-version"], "2026-10-21");
  assert.equal(seen["authorization"], `Bearer ${KEY}`);
});

Deno.test("anthropic sdk: messages.stream assembles the same message as create", async () => {
  await using h = await sdkHarness();
  const params = {
    model: MODEL,
    max_tokens: 256,
    messages: [{ role: "user" as const, content: "Stream a reply to the SDK" }],
  };
  const whole = await h.client.messages.create(params);
  const stream = h.client.messages.stream(params);
  const deltas: string[] = [];
  stream.on("text", (text) => deltas.push(text));
  const final = await stream.finalMessage();
  assert.ok(deltas.length >= 2, `expected several text deltas, got ${deltas.length}`);
  assert.deepEqual(final.content, whole.content);
  assert.equal(deltas.join(""), (whole.content[0] as Anthropic.TextBlock).text);
  assert.equal(final.stop_reason, "end_turn");
  assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
});

Deno.test("anthropic sdk: create with stream:true yields the documented event order", async () => {
  await using h = await sdkHarness();
  const stream = await h.client.messages.create({
    model: MODEL,
    max_tokens: 256,
    stream: true,
    messages: [{ role: "user", content: "List the stream events" }],
  });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  const compact = types.filter((t, i) => t !== types[i - 1]);
  assert.deepEqual(compact, [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
});

Deno.test("anthropic sdk: tool use arrives as a tool_use block, whole and streamed", async () => {
  await using h = await sdkHarness();
  const params = {
    model: MODEL,
    max_tokens: 256,
    tools: [WEATHER_TOOL],
    tool_choice: { type: "any" as const },
    messages: [{ role: "user" as const, content: "Weather in Lisbon?" }],
  };
  const message = await h.client.messages.create(params);
  assert.equal(message.stop_reason, "tool_use");
  const use = message.content.find((b) => b.type === "tool_use");
  assert.ok(use && use.type === "tool_use");
  assert.match(use.id, /^toolu_/);
  assert.equal(use.name, "get_weather");
  assert.equal(typeof (use.input as { city?: unknown }).city, "string");

  const streamed = await h.client.messages.stream(params).finalMessage();
  assert.deepEqual(streamed.content, message.content);

  const answer = await h.client.messages.create({
    ...params,
    tool_choice: { type: "auto" },
    messages: [
      ...params.messages,
      { role: "assistant", content: message.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "21C" }] },
    ],
  });
  assert.equal(answer.stop_reason, "end_turn");
  assert.equal(answer.content[0].type, "text");
});

Deno.test("anthropic sdk: a rate limit is an APIError with status 429 and retry-after", async () => {
  await using h = await sdkHarness({ fault: { mode: "rate_limit", retry_after_s: 7 } });
  const error = await h.client.messages.create({
    model: MODEL,
    max_tokens: 16,
    messages: [{ role: "user", content: "Hello" }],
  }).catch((e) => e);
  assert.ok(error instanceof Anthropic.RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.type, "rate_limit_error");
  assert.equal(error.headers?.get("retry-after"), "7");
  assert.match(error.requestID ?? "", /^req_/);
});

Deno.test("anthropic sdk: an overload is an APIError with status 529 or 500", async () => {
  await using h = await sdkHarness({ fault: { mode: "error" } });
  const statuses = new Set<number>();
  for (let i = 0; i < 8; i++) {
    const error = await h.client.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: "user", content: "Hello" }],
    }).catch((e) => e);
    assert.ok(error instanceof Anthropic.APIError);
    statuses.add(error.status!);
    assert.equal(error.type, error.status === 529 ? "overloaded_error" : "api_error");
  }
  assert.deepEqual([...statuses].sort(), [500, 529]);
});

Deno.test("anthropic sdk: an error event mid-stream rejects the stream with its type", async () => {
  await using h = await sdkHarness({ fault: { mode: "sse_error", after_chunks: 2 } });
  const stream = h.client.messages.stream({
    model: MODEL,
    max_tokens: 256,
    messages: [{ role: "user", content: "Start then fail" }],
  });
  const deltas: string[] = [];
  stream.on("text", (text) => deltas.push(text));
  const error = await stream.finalMessage().catch((e) => e);
  assert.ok(error instanceof Anthropic.APIError);
  assert.equal(error.type, "overloaded_error");
  assert.equal(deltas.length, 2);
});

Deno.test("anthropic sdk: a wrong key is an AuthenticationError", async () => {
  await using h = await sdkHarness();
  const client = new Anthropic({ apiKey: "wrong", baseURL: h.sim.origin, maxRetries: 0 });
  const error = await client.messages.create({
    model: MODEL,
    max_tokens: 16,
    messages: [{ role: "user", content: "Hello" }],
  }).catch((e) => e);
  assert.ok(error instanceof Anthropic.AuthenticationError);
  assert.equal(error.status, 401);
});
