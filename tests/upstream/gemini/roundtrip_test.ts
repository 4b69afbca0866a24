/**
 * A tool loop through the adapter against the simulator of a Gemini 3 model, which insists on
 * getting each function call's thought signature back.
 */
import assert from "node:assert/strict";
import { geminiAdapter } from "../../../src/upstream/gemini/index.ts";
import { startSimulator } from "../../../src/sim/server.ts";
import { createGeminiSimulator } from "../../../src/sim/gemini.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import type { ChatRequest, Message, ToolCall } from "../../../src/upstream/types.ts";

const TOOLS: ChatRequest["tools"] = [{
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];

async function complete(target: UpstreamTarget, messages: Message[]) {
  const upstream = geminiAdapter.request({ model: "m", messages, tools: TOOLS }, target, {
    includeUsage: true,
  });
  const response = await fetch(upstream.url, {
    method: "POST",
    headers: upstream.headers,
    body: upstream.body,
  });
  const body = await response.text();
  if (!response.ok) throw geminiAdapter.error(response.status, body, response.headers);
  return geminiAdapter.response(body, target).response;
}

/** Runs call → result → answer, letting `keep` decide what the client keeps of the call. */
async function toolLoop(keep: (call: ToolCall) => ToolCall) {
  await using sim = await startSimulator(createGeminiSimulator, {
    latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
    apiKey: "k",
  });
  const target: UpstreamTarget = {
    route: "roundtrip",
    provider: "gemini",
    model: "gemini-3-flash-preview",
    baseUrl: `${sim.origin}/v1beta`,
    apiKey: "k",
  };
  const ask: Message = { role: "user", content: "Weather in Lisbon?" };
  const first = await complete(target, [ask]);
  const call = first.choices[0].message.tool_calls![0];
  const answer = await complete(target, [
    ask,
    { role: "assistant", content: null, tool_calls: [keep(call)] },
    { role: "tool", tool_call_id: call.id, content: '{"temperature_c":21}' },
  ]);
  return { call, answer };
}

Deno.test("gemini roundtrip: the thought signature travels in extra_content and back", async () => {
  const { call, answer } = await toolLoop((c) => c);
  assert.ok(
    (call.extra_content as { google: { thought_signature: string } }).google.thought_signature,
  );
  assert.equal(answer.choices[0].finish_reason, "stop");
});

Deno.test("gemini roundtrip: a client that drops extra_content still gets an answer", async () => {
  const { answer } = await toolLoop(({ extra_content: _, ...rest }) => rest as ToolCall);
  assert.equal(answer.choices[0].finish_reason, "stop");
  assert.ok((answer.choices[0].message.content ?? "").length > 0);
});
