import assert from "node:assert/strict";
import { mistralAdapter } from "../../src/upstream/mistral/index.ts";
import { createMistralSimulator } from "../../src/sim/mistral.ts";
import { startSimulator } from "../../src/sim/server.ts";
import { runConformance } from "./conformance.ts";

runConformance({
  name: "mistral",
  adapter: mistralAdapter,
  simulator: createMistralSimulator,
  baseUrlPath: "/v1",
  model: "mistral-small-latest",
});

const TARGET = {
  route: "r",
  provider: "mistral" as const,
  model: "mistral-small-latest",
  baseUrl: "https://api.mistral.ai/v1",
  apiKey: "k",
};

Deno.test("mistral adapter: OpenAI names become Mistral's and OpenAI-only fields are dropped", () => {
  const upstream = mistralAdapter.request(
    {
      model: "x",
      stream: true,
      stream_options: { include_usage: true },
      seed: 42,
      max_completion_tokens: 64,
      user: "u-1",
      messages: [
        { role: "developer", content: "Be terse." },
        { role: "user", content: "Hi" },
      ],
    },
    TARGET,
    { includeUsage: true },
  );
  const body = JSON.parse(upstream.body);
  assert.equal(body.random_seed, 42);
  assert.equal(body.max_tokens, 64);
  for (const field of ["seed", "max_completion_tokens", "stream_options", "user"]) {
    assert.equal(field in body, false, `${field} is not sent`);
  }
  assert.equal(body.messages[0].role, "system");
  assert.equal(body.model, "mistral-small-latest");
});

Deno.test("mistral sim: fields Mistral does not accept are a 422, as the real API answers", async () => {
  await using sim = await startSimulator(createMistralSimulator, {});
  const response = await fetch(`${sim.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "mistral-small-latest",
      messages: [{ role: "user", content: "Hi" }],
      stream_options: { include_usage: true },
    }),
  });
  const error = mistralAdapter.error(response.status, await response.text(), response.headers);
  assert.equal(response.status, 422);
  assert.equal(error.kind, "client_error");
  assert.match(error.message, /extra_forbidden/);
});
