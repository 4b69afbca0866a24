import assert from "node:assert/strict";
import { openaiAdapter } from "../../../src/upstream/openai/index.ts";
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
