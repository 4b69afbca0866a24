/** Response and error translation: Gemini bodies → OpenAI completions and `UpstreamError`s. */
import assert from "node:assert/strict";
import { geminiAdapter } from "../../../src/upstream/gemini/index.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";

const TARGET: UpstreamTarget = {
  route: "test",
  provider: "gemini",
  model: "gemini-2.5-flash",
  baseUrl: "http://127.0.0.1:9/v1beta",
  apiKey: "k",
};

const translate = (body: unknown) => geminiAdapter.response(JSON.stringify(body), TARGET);

function thrown(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${error}`);
    return error;
  }
  assert.fail("expected a throw");
}

Deno.test("gemini response: text parts join, thoughts are skipped, usage counts thinking", () => {
  const { response, usage } = translate({
    candidates: [{
      content: {
        role: "model",
        parts: [{ text: "Let me think", thought: true }, { text: "Hello" }, { text: ", world" }],
      },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 2000,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 40,
      cachedContentTokenCount: 1024,
      totalTokenCount: 2045,
    },
    modelVersion: "gemini-2.5-flash-001",
    responseId: "resp-1",
  });
  assert.equal(response.id, "resp-1");
  assert.equal(response.model, "gemini-2.5-flash-001");
  assert.deepEqual(response.choices, [{
    index: 0,
    message: { role: "assistant", content: "Hello, world" },
    finish_reason: "stop",
    logprobs: null,
  }]);
  assert.deepEqual(response.usage, {
    prompt_tokens: 2000,
    completion_tokens: 45,
    total_tokens: 2045,
    prompt_tokens_details: { cached_tokens: 1024 },
    completion_tokens_details: { reasoning_tokens: 40 },
  });
  assert.deepEqual(usage, {
    input_tokens: 2000,
    output_tokens: 45,
    cached_input_tokens: 1024,
    cache_write_tokens: 0,
    reasoning_tokens: 40,
  });
});

Deno.test("gemini response: function calls become tool calls with ids and signatures", () => {
  const { response } = translate({
    candidates: [{
      content: {
        role: "model",
        parts: [
          {
            functionCall: { name: "get_weather", args: { city: "Lisbon" } },
            thoughtSignature: "c2ln",
          },
          { functionCall: { id: "fc-9", name: "get_time" } },
        ],
      },
      finishReason: "STOP",
    }],
  });
  const [choice] = response.choices;
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null);
  const [weather, time] = choice.message.tool_calls!;
  assert.match(weather.id, /^call_[0-9a-f]{24}$/);
  assert.deepEqual(weather.function, { name: "get_weather", arguments: '{"city":"Lisbon"}' });
  assert.deepEqual(weather.extra_content, { google: { thought_signature: "c2ln" } });
  assert.equal(time.id, "fc-9");
  assert.equal(time.function.arguments, "{}");
  assert.equal(time.extra_content, undefined);
});

Deno.test("gemini response: finish reasons map to OpenAI's, one choice per candidate", () => {
  const reasons = ["STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "SPII", "OTHER"];
  const { response } = translate({
    candidates: reasons.map((finishReason, index) => ({
      content: { role: "model", parts: [{ text: "x" }] },
      finishReason,
      index,
    })),
  });
  assert.deepEqual(response.choices.map((c) => c.finish_reason), [
    "stop",
    "length",
    "content_filter",
    "content_filter",
    "content_filter",
    "stop",
  ]);
  assert.deepEqual(response.choices.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
});

Deno.test("gemini response: a blocked prompt is an empty content_filter answer", () => {
  const { response, usage } = translate({
    promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
    usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
  });
  assert.deepEqual(response.choices, [{
    index: 0,
    message: { role: "assistant", content: null },
    finish_reason: "content_filter",
    logprobs: null,
  }]);
  assert.equal(usage?.input_tokens, 12);
  assert.match(response.id, /^chatcmpl-/);
  assert.equal(response.model, "gemini-2.5-flash", "the target's model when Gemini names none");
});

Deno.test("gemini response: error bodies and foreign bodies are refused with their kind", () => {
  const inBody = thrown(() =>
    translate({ error: { code: 500, message: "Internal error", status: "INTERNAL" } })
  );
  assert.equal(inBody.kind, "error_in_body");
  assert.equal(inBody.providerCode, "INTERNAL");
  assert.equal(thrown(() => translate({ predictions: [] })).kind, "malformed");
  assert.equal(thrown(() => geminiAdapter.response("<html>", TARGET)).kind, "malformed");
});

Deno.test("gemini errors: statuses classify by Google's canonical code", () => {
  const classify = (status: number, error: Record<string, unknown>, headers = new Headers()) =>
    geminiAdapter.error(status, JSON.stringify({ error: { code: status, ...error } }), headers);

  const limited = classify(429, {
    status: "RESOURCE_EXHAUSTED",
    message: "Quota exceeded",
    details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "34.5s" }],
  });
  assert.equal(limited.kind, "rate_limited");
  assert.equal(limited.retryAfterMs, 34500);
  assert.equal(limited.providerCode, "RESOURCE_EXHAUSTED");
  assert.equal(limited.status, 429);
  assert.match(limited.message, /Quota exceeded/);

  const header = classify(
    429,
    { status: "RESOURCE_EXHAUSTED" },
    new Headers({ "retry-after": "2" }),
  );
  assert.equal(header.retryAfterMs, 2000, "Retry-After wins over RetryInfo");

  assert.equal(classify(503, { status: "UNAVAILABLE" }).kind, "server_error");
  assert.equal(
    classify(400, {
      status: "INVALID_ARGUMENT",
      message:
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
    }).kind,
    "context_length",
  );
  assert.equal(
    classify(400, {
      status: "INVALID_ARGUMENT",
      message: "API key not valid. Please pass a valid API key.",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }],
    }).kind,
    "auth",
  );
  assert.equal(classify(400, { status: "INVALID_ARGUMENT", message: "Bad" }).kind, "client_error");
  assert.equal(classify(403, { status: "PERMISSION_DENIED" }).kind, "auth");
  assert.equal(classify(404, { status: "NOT_FOUND" }).kind, "client_error");
});

Deno.test("gemini errors: an array-wrapped error (non-SSE stream) is read too", () => {
  const body = JSON.stringify([{
    error: { code: 503, message: "Overloaded", status: "UNAVAILABLE" },
  }]);
  const error = geminiAdapter.error(503, body, new Headers());
  assert.equal(error.kind, "server_error");
  assert.equal(error.providerCode, "UNAVAILABLE");
});
