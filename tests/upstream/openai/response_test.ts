import assert from "node:assert/strict";
import { openaiAdapter } from "../../../src/upstream/openai/index.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";

const TARGET: UpstreamTarget = {
  route: "r",
  provider: "openai",
  model: "m",
  baseUrl: "http://x",
  apiKey: "",
};

const OPENAI_BODY = JSON.stringify({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hi", refusal: null },
    finish_reason: "stop",
  }],
  usage: {
    prompt_tokens: 10,
    completion_tokens: 2,
    total_tokens: 12,
    prompt_tokens_details: { cached_tokens: 4 },
    completion_tokens_details: { reasoning_tokens: 1 },
  },
});

Deno.test("openai adapter: an OpenAI body is handed on as raw bytes with normalized usage", () => {
  const completion = openaiAdapter.response(OPENAI_BODY, TARGET);
  assert.equal(completion.raw, OPENAI_BODY);
  assert.equal(completion.response.choices[0].message.content, "Hi");
  assert.deepEqual(completion.usage, {
    input_tokens: 10,
    output_tokens: 2,
    cached_input_tokens: 4,
    cache_write_tokens: 0,
    reasoning_tokens: 1,
  });
});

Deno.test("openai adapter: a Mistral-shaped body is rewritten into OpenAI's shape", () => {
  const body = JSON.stringify({
    id: "abc",
    object: "chat.completion",
    created: 1,
    model: "magistral-small",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: [{ type: "thinking", thinking: [] }, { type: "text", text: "Answer" }],
        tool_calls: null,
      },
      finish_reason: "model_length",
    }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  });
  const completion = openaiAdapter.response(body, TARGET);
  assert.equal(completion.raw, undefined, "rewritten bodies are not passed raw");
  const choice = completion.response.choices[0];
  assert.equal(choice.message.content, "Answer");
  assert.equal(choice.finish_reason, "length");
  assert.equal("tool_calls" in choice.message, false);
});

Deno.test("openai adapter: object arguments and missing types become OpenAI tool calls", () => {
  const body = JSON.stringify({
    id: "abc",
    model: "mistral-small",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "a1b2c3d4e", function: { name: "f", arguments: { x: 1 } } }],
      },
      finish_reason: "tool_calls",
    }],
  });
  const call = openaiAdapter.response(body, TARGET).response.choices[0].message.tool_calls![0];
  assert.deepEqual(call, {
    id: "a1b2c3d4e",
    type: "function",
    function: { name: "f", arguments: '{"x":1}' },
  });
});

Deno.test("openai adapter: a gateway's provider and cost are read from the body", () => {
  const body = JSON.parse(OPENAI_BODY);
  body.provider = "Azure";
  body.usage.cost = 0.0042;
  const completion = openaiAdapter.response(JSON.stringify(body), TARGET);
  assert.equal(completion.servedBy, "Azure");
  assert.equal(completion.usage?.reported_cost_usd, 0.0042);
});

Deno.test("openai adapter: error objects and foreign bodies in a 200 are errors", () => {
  const kind = (body: string) => {
    try {
      openaiAdapter.response(body, TARGET);
    } catch (error) {
      assert.ok(error instanceof UpstreamError);
      return error.kind;
    }
    return "none";
  };
  assert.equal(kind('{"error":{"code":502,"message":"Provider returned error"}}'), "error_in_body");
  assert.equal(kind('{"object":"error","message":"boom","type":"internal"}'), "error_in_body");
  assert.equal(kind("<html>502</html>"), "malformed");
  assert.equal(kind('{"id":"x","choices":"nope"}'), "malformed");
});
