import assert from "node:assert/strict";
import { Mistral } from "@mistralai/mistralai";
import { startSimulator } from "../../src/sim/server.ts";
import { createMistralSimulator } from "../../src/sim/mistral.ts";

const FAST = { latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 }, apiKey: "mistral-sim" };

async function mistral(options = {}) {
  const sim = await startSimulator(createMistralSimulator, { ...FAST, ...options });
  // The SDK's serverURL is the origin: its paths already start with /v1.
  const client = new Mistral({
    apiKey: "mistral-sim",
    serverURL: sim.origin,
    retryConfig: { strategy: "none" },
  });
  return { sim, client, [Symbol.asyncDispose]: () => sim.close() };
}

Deno.test("mistral sim: the Mistral SDK's chat.complete gets an answer with usage", async () => {
  await using h = await mistral();
  const response = await h.client.chat.complete({
    model: "mistral-small-latest",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello from the Mistral SDK" },
    ],
    randomSeed: 7,
    maxTokens: 100,
  });
  assert.equal(response.model, "mistral-small-latest");
  assert.equal(response.choices[0].finishReason, "stop");
  assert.match(String(response.choices[0].message?.content), /Hello from the Mistral SDK/);
  assert.ok((response.usage.promptTokens ?? 0) > 0);
  assert.ok((response.usage.completionTokens ?? 0) > 0);
});

Deno.test("mistral sim: the Mistral SDK's chat.stream ends with usage on the last chunk", async () => {
  await using h = await mistral();
  const stream = await h.client.chat.stream({
    model: "mistral-small-latest",
    messages: [{ role: "user", content: "Stream from the Mistral SDK" }],
  });
  const chunks = [];
  for await (const event of stream) chunks.push(event.data);
  const text = chunks.map((c) => String(c.choices[0]?.delta.content ?? "")).join("");
  assert.match(text, /Stream from the Mistral SDK/);
  const last = chunks.at(-1)!;
  assert.equal(last.choices[0].finishReason, "stop");
  assert.ok((last.usage?.completionTokens ?? 0) > 0, "usage rides on the finishing chunk");
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
});

Deno.test("mistral sim: the Mistral SDK gets a whole tool call", async () => {
  await using h = await mistral();
  const response = await h.client.chat.complete({
    model: "mistral-small-latest",
    messages: [{ role: "user", content: "Weather in Nice?" }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    toolChoice: "any",
  });
  const call = response.choices[0].message!.toolCalls![0];
  assert.equal(response.choices[0].finishReason, "tool_calls");
  assert.equal(call.function.name, "get_weather");
  assert.equal(typeof JSON.parse(String(call.function.arguments)).city, "string");
});

Deno.test("mistral sim: a 429 reaches the Mistral SDK as an error with the status", async () => {
  await using h = await mistral({ fault: { mode: "rate_limit" } });
  const error = await h.client.chat.complete({
    model: "mistral-small-latest",
    messages: [{ role: "user", content: "Hi" }],
  }).catch((e) => e);
  assert.ok(error instanceof Error);
  assert.equal((error as { statusCode?: number }).statusCode, 429);
});
