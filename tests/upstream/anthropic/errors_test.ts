import assert from "node:assert/strict";
import { anthropicAdapter } from "../../../src/upstream/anthropic/index.ts";

function envelope(type: string, message: string): string {
  return JSON.stringify({ type: "error", error: { type, message }, request_id: "req_1" });
}

Deno.test("anthropic errors: each documented error type gets its kind and code", () => {
  const cases: [number, string, string][] = [
    [400, "invalid_request_error", "client_error"],
    [401, "authentication_error", "auth"],
    [402, "billing_error", "auth"],
    [403, "permission_error", "auth"],
    [404, "not_found_error", "client_error"],
    [413, "request_too_large", "client_error"],
    [429, "rate_limit_error", "rate_limited"],
    [500, "api_error", "server_error"],
    [504, "timeout_error", "server_error"],
    [529, "overloaded_error", "server_error"],
  ];
  for (const [status, type, kind] of cases) {
    const error = anthropicAdapter.error(status, envelope(type, "Something"), new Headers());
    assert.equal(error.kind, kind, type);
    assert.equal(error.status, status);
    assert.equal(error.providerCode, type);
    assert.match(error.message, new RegExp(`${status} ${type}: Something`));
  }
});

Deno.test("anthropic errors: a prompt that is too long is context_length", () => {
  const error = anthropicAdapter.error(
    400,
    envelope("invalid_request_error", "prompt is too long: 208451 tokens > 200000 maximum"),
    new Headers(),
  );
  assert.equal(error.kind, "context_length");
});

Deno.test("anthropic errors: retry-after is read in seconds", () => {
  const error = anthropicAdapter.error(
    429,
    envelope("rate_limit_error", "Slow down"),
    new Headers({ "retry-after": "12" }),
  );
  assert.equal(error.retryAfterMs, 12_000);
});

Deno.test("anthropic errors: a body that is not an envelope keeps its text", () => {
  const error = anthropicAdapter.error(502, "<html>Bad Gateway</html>", new Headers());
  assert.equal(error.kind, "server_error");
  assert.equal(error.providerCode, undefined);
  assert.match(error.message, /Bad Gateway/);
});
