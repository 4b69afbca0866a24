import assert from "node:assert/strict";
import { openaiAdapter } from "../../../src/upstream/openai/index.ts";

const classify = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  openaiAdapter.error(status, JSON.stringify(body), new Headers(headers));

Deno.test("openai errors: OpenAI's context_length_exceeded code is context_length", () => {
  const error = classify(400, {
    error: { message: "Too long", type: "invalid_request_error", code: "context_length_exceeded" },
  });
  assert.equal(error.kind, "context_length");
  assert.equal(error.providerCode, "context_length_exceeded");
});

Deno.test("openai errors: Mistral's flat body is read, its wording says context_length", () => {
  const error = classify(400, {
    object: "error",
    message: "Prompt contains 40960 tokens, too large for model with 32768 maximum context length",
    type: "invalid_request_error",
    param: null,
    code: "3051",
  });
  assert.equal(error.kind, "context_length");
  assert.match(error.message, /40960 tokens/);
  assert.equal(error.providerCode, "3051");
});

Deno.test("openai errors: other 4xx stay client errors, with structured messages kept", () => {
  const error = classify(422, {
    object: "error",
    message: { detail: [{ type: "extra_forbidden", loc: ["body", "seed"] }] },
    type: "invalid_request_message_error",
  });
  assert.equal(error.kind, "client_error");
  assert.match(error.message, /extra_forbidden/);
  assert.equal(error.status, 422);
});

Deno.test("openai errors: Retry-After is read, retry-after-ms first", () => {
  assert.equal(
    classify(429, { error: { message: "slow" } }, { "retry-after": "3" }).retryAfterMs,
    3000,
  );
  const precise = classify(429, {}, { "retry-after": "3", "retry-after-ms": "250" });
  assert.equal(precise.kind, "rate_limited");
  assert.equal(precise.retryAfterMs, 250);
});

Deno.test("openai errors: OpenRouter's numeric codes and a bare 503 are classified", () => {
  const routed = classify(503, { error: { code: 503, message: "No provider available" } });
  assert.equal(routed.kind, "server_error");
  assert.equal(routed.providerCode, "503");
  const bare = openaiAdapter.error(502, "<html>Bad gateway</html>", new Headers());
  assert.equal(bare.kind, "server_error");
  assert.match(bare.message, /Bad gateway/);
});
