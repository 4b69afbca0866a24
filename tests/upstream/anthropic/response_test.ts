import assert from "node:assert/strict";
import { anthropicAdapter } from "../../../src/upstream/anthropic/index.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";

const TARGET: UpstreamTarget = {
  route: "claude",
  provider: "anthropic",
  model: "claude-sonnet-5-5",
  baseUrl: "https://api.anthropic.com/v1",
  apiKey: "k",
};

function message(fields: Record<string, unknown>): string {
  return JSON.stringify({
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-5-5-20261001",
    content: [{ type: "text", text: "Hello" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 3 },
    ...fields,
  });
}

Deno.test("anthropic response: text blocks are joined and id and model carried over", () => {
  const { response } = anthropicAdapter.response(
    message({
      content: [
        { type: "thinking", thinking: "hidden", signature: "s" },
        { type: "text", text: "Hello, " },
        { type: "text", text: "world." },
      ],
    }),
    TARGET,
  );
  assert.equal(response.id, "msg_01");
  assert.equal(response.model, "claude-sonnet-5-5-20261001");
  assert.equal(response.object, "chat.completion");
  assert.equal(response.choices[0].message.content, "Hello, world.");
  assert.equal(response.choices[0].message.tool_calls, undefined);
  assert.equal(response.choices[0].finish_reason, "stop");
});

Deno.test("anthropic response: tool_use blocks become tool calls with JSON arguments", () => {
  const { response } = anthropicAdapter.response(
    message({
      content: [
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Lisbon" } },
        { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
      ],
      stop_reason: "tool_use",
    }),
    TARGET,
  );
  const choice = response.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null);
  assert.deepEqual(choice.message.tool_calls, [
    {
      id: "toolu_1",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Lisbon"}' },
    },
    { id: "toolu_2", type: "function", function: { name: "get_time", arguments: "{}" } },
  ]);
});

Deno.test("anthropic response: stop reasons map to OpenAI finish reasons", () => {
  const cases: [string, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ];
  for (const [stop, finish] of cases) {
    const { response } = anthropicAdapter.response(message({ stop_reason: stop }), TARGET);
    assert.equal(response.choices[0].finish_reason, finish, stop);
  }
});

Deno.test("anthropic response: prompt tokens include cache reads and writes", () => {
  const { response, usage } = anthropicAdapter.response(
    message({
      usage: {
        input_tokens: 50,
        cache_read_input_tokens: 2000,
        cache_creation_input_tokens: 300,
        output_tokens: 120,
        output_tokens_details: { thinking_tokens: 80 },
      },
    }),
    TARGET,
  );
  assert.deepEqual(response.usage, {
    prompt_tokens: 2350,
    completion_tokens: 120,
    total_tokens: 2470,
    prompt_tokens_details: { cached_tokens: 2000 },
    completion_tokens_details: { reasoning_tokens: 80 },
  });
  assert.deepEqual(usage, {
    input_tokens: 2350,
    output_tokens: 120,
    cached_input_tokens: 2000,
    cache_write_tokens: 300,
    reasoning_tokens: 80,
  });
});

Deno.test("anthropic response: an error envelope in a 200 is error_in_body", () => {
  const body = JSON.stringify({
    type: "error",
    error: { type: "overloaded_error", message: "Overloaded" },
    request_id: "req_1",
  });
  assert.throws(
    () => anthropicAdapter.response(body, TARGET),
    (e) =>
      e instanceof UpstreamError && e.kind === "error_in_body" &&
      e.providerCode === "overloaded_error",
  );
});

Deno.test("anthropic response: a body that is not a message is malformed", () => {
  for (const body of ["<html>bad gateway</html>", '{"choices":[]}', message({ content: "x" })]) {
    assert.throws(
      () => anthropicAdapter.response(body, TARGET),
      (e) => e instanceof UpstreamError && e.kind === "malformed",
      body,
    );
  }
});
