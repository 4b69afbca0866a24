import assert from "node:assert/strict";
import OpenAI from "openai";
import { startSimulator } from "../../src/sim/server.ts";
import { createOpenAISimulator } from "../../src/sim/openai.ts";

const FAST = { latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 }, apiKey: "sk-sim" };
const WEATHER = {
  type: "function" as const,
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
};

async function openai(options = {}) {
  const sim = await startSimulator(createOpenAISimulator, { ...FAST, ...options });
  const client = new OpenAI({ baseURL: `${sim.origin}/v1`, apiKey: "sk-sim", maxRetries: 0 });
  return { sim, client, [Symbol.asyncDispose]: () => sim.close() };
}

Deno.test("openai sim: the OpenAI SDK gets a chat completion with usage", async () => {
  await using h = await openai();
  const completion = await h.client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Greet the SDK please" }],
  });
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.model, "gpt-4o-mini");
  assert.equal(completion.choices[0].finish_reason, "stop");
  assert.match(completion.choices[0].message.content ?? "", /Greet the SDK please/);
  assert.ok(completion.usage!.prompt_tokens > 0);
  assert.equal(
    completion.usage!.total_tokens,
    completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
  );
  assert.match(h.sim.seen.at(-1)!.headers["user-agent"], /OpenAI/);
});

Deno.test("openai sim: the OpenAI SDK streams chunks and a final usage chunk", async () => {
  await using h = await openai();
  const stream = await h.client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Stream to the SDK" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.match(text, /Stream to the SDK/);
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage!.completion_tokens > 0, true);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), "other chunks carry usage: null");
  assert.equal(chunks.at(-2)!.choices[0].finish_reason, "stop");
});

Deno.test("openai sim: the SDK's stream helper rebuilds a streamed tool call", async () => {
  await using h = await openai();
  const stream = h.client.chat.completions.stream({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [WEATHER],
  });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls![0];
  assert.equal(final.choices[0].finish_reason, "tool_calls");
  assert.equal(call.type, "function");
  assert.ok(call.type === "function" && call.function.name === "get_weather");
  assert.ok(
    call.type === "function" && typeof JSON.parse(call.function.arguments).city === "string",
  );
});

Deno.test("openai sim: a non-streaming tool call reaches the SDK intact", async () => {
  await using h = await openai();
  const completion = await h.client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [WEATHER],
    tool_choice: { type: "function", function: { name: "get_weather" } },
  });
  const call = completion.choices[0].message.tool_calls![0];
  assert.equal(completion.choices[0].message.content, null);
  assert.ok(call.type === "function" && call.function.name === "get_weather");
});

Deno.test("openai sim: a 429 surfaces as the SDK's RateLimitError with its code", async () => {
  await using h = await openai({ fault: { mode: "rate_limit", retry_after_s: 2 } });
  const error = await h.client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hi" }],
  }).catch((e) => e);
  assert.ok(error instanceof OpenAI.RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.code, "rate_limit_exceeded");
  assert.equal(error.headers?.get("retry-after"), "2");
});

Deno.test("openai sim: a wrong key surfaces as the SDK's AuthenticationError", async () => {
  await using h = await openai();
  const client = new OpenAI({ baseURL: `${h.sim.origin}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
  const error = await client.models.list().catch((e) => e);
  assert.ok(error instanceof OpenAI.AuthenticationError);
  assert.equal(error.status, 401);
  assert.equal(error.code, "invalid_api_key");
});

Deno.test("openai sim: models.list pages through the simulated models", async () => {
  await using h = await openai({ models: { "ft:gpt-4o-mini:acme": {} } });
  const ids = [];
  for await (const model of h.client.models.list()) ids.push(model.id);
  assert.ok(ids.includes("gpt-4o-mini"));
  assert.ok(ids.includes("ft:gpt-4o-mini:acme"));
});
