import assert from "node:assert/strict";
import { openaiAdapter } from "../../../src/upstream/openai/index.ts";
import { openrouterAdapter } from "../../../src/upstream/openrouter/index.ts";
import { mistralAdapter } from "../../../src/upstream/mistral/index.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import type { ChatRequest } from "../../../src/upstream/types.ts";

const TARGET: UpstreamTarget = {
  route: "r",
  provider: "openai",
  model: "gpt-4o-mini",
  baseUrl: "https://api.openai.com/v1",
  apiKey: "sk-test",
};
const REQ: ChatRequest = { model: "fast", messages: [{ role: "user", content: "Hi" }] };

Deno.test("openai adapter: the target's model replaces the client's and unknown fields pass", () => {
  const upstream = openaiAdapter.request(
    { ...REQ, reasoning_effort: "low", temperature: 0.2 } as ChatRequest,
    TARGET,
    { includeUsage: false },
  );
  const body = JSON.parse(upstream.body);
  assert.equal(upstream.url, "https://api.openai.com/v1/chat/completions");
  assert.equal(upstream.headers.authorization, "Bearer sk-test");
  assert.equal(body.model, "gpt-4o-mini");
  assert.equal(body.reasoning_effort, "low");
  assert.equal(body.temperature, 0.2);
});

Deno.test("openai adapter: a stream asks for usage when routing needs it", () => {
  const body = (req: ChatRequest, includeUsage: boolean) =>
    JSON.parse(openaiAdapter.request(req, TARGET, { includeUsage }).body);
  assert.deepEqual(body({ ...REQ, stream: true }, true).stream_options, { include_usage: true });
  assert.equal(body({ ...REQ, stream: true }, false).stream_options, undefined);
  assert.deepEqual(
    body({ ...REQ, stream: true, stream_options: { include_usage: true } }, false).stream_options,
    { include_usage: true },
    "the client's own request is kept",
  );
});

Deno.test("openai adapter: stream_options never goes out on a non-streaming request", () => {
  const upstream = openaiAdapter.request(
    { ...REQ, stream: false, stream_options: { include_usage: true } },
    TARGET,
    { includeUsage: true },
  );
  assert.equal(JSON.parse(upstream.body).stream_options, undefined);
  assert.equal(upstream.headers.accept, "application/json");
});

/** A request and the text it was parsed from. */
function client(text: string): { req: ChatRequest; raw: string } {
  return { req: JSON.parse(text), raw: text };
}

Deno.test("openai adapter: the client's bytes go out with the model written in, when nothing else changes", () => {
  const big =
    '{"model":"fast","vendor_option":12345678901234567890,"messages":[{"role":"user","content":"Hi"}]}';
  const { req, raw } = client(big);
  const upstream = openaiAdapter.request(req, TARGET, { includeUsage: true }, raw);
  // A JSON round trip would have rounded vendor_option to 12345678901234567000.
  assert.equal(upstream.body, big.replace('"fast"', '"gpt-4o-mini"'));
  // Without the raw text, the request is serialized as before.
  assert.equal(
    JSON.parse(openaiAdapter.request(req, TARGET, { includeUsage: true }).body).model,
    "gpt-4o-mini",
  );
});

Deno.test("openai adapter: the bytes are not forwarded when the mapping changes the body", () => {
  const body = (text: string, includeUsage = true) => {
    const { req, raw } = client(text);
    return openaiAdapter.request(req, TARGET, { includeUsage }, raw).body;
  };
  const msgs = '"messages":[{"role":"user","content":"Hi"}]';
  // stream_options on a non-streaming request is dropped.
  const nonStream = body(`{"model":"fast",${msgs},"stream_options":{"include_usage":true}}`);
  assert.equal(JSON.parse(nonStream).stream_options, undefined);
  // A stream that did not ask for usage gets it asked for.
  const stream = body(`{"model":"fast",${msgs},"stream":true}`);
  assert.deepEqual(JSON.parse(stream).stream_options, { include_usage: true });
  // A stream that asked for usage already is forwarded as is.
  const asked = `{"model":"fast",${msgs},"stream":true,"stream_options":{"include_usage":true}}`;
  assert.equal(body(asked), asked.replace('"fast"', '"gpt-4o-mini"'));
  // Not asking for usage on the client's behalf: forwarded as is.
  const plain = `{"model":"fast", ${msgs},"stream":true}`;
  assert.equal(body(plain, false), plain.replace('"fast"', '"gpt-4o-mini"'));
});

Deno.test("gateway and provider adapters forward the bytes only when their mapping is a no-op", () => {
  const text =
    '{"model":"fast","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":9}';
  const { req, raw } = client(text);
  const gateway: UpstreamTarget = { ...TARGET, provider: "openrouter", model: "openai/gpt-4o" };
  assert.equal(
    openrouterAdapter.request(req, gateway, { includeUsage: false }, raw).body,
    text.replace('"fast"', '"openai/gpt-4o"'),
  );
  // The route's provider preferences must be written in: serialized.
  const steered = { ...gateway, gateway: { provider: { order: ["openai"] } } };
  const out = JSON.parse(
    openrouterAdapter.request(req, steered, { includeUsage: false }, raw).body,
  );
  assert.deepEqual(out.provider, { order: ["openai"] });
  // A client's own routing fields never reach the gateway.
  const own = client('{"model":"fast","messages":[],"provider":{"order":["x"]}}');
  const cleaned = openrouterAdapter.request(own.req, gateway, { includeUsage: false }, own.raw);
  assert.equal(JSON.parse(cleaned.body).provider, undefined);
  // Mistral renames fields: always serialized.
  const mistral = { ...TARGET, provider: "mistral" as const, model: "mistral-small-latest" };
  const m = JSON.parse(mistralAdapter.request(req, mistral, { includeUsage: false }, raw).body);
  assert.equal(m.max_tokens, 9);
});
