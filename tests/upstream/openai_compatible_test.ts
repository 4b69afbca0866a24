import assert from "node:assert/strict";
import { openaiCompatibleAdapter } from "../../src/upstream/openai-compatible/index.ts";
import { createOpenAISimulator } from "../../src/sim/openai.ts";
import { startSimulator } from "../../src/sim/server.ts";
import { runConformance } from "./conformance.ts";

runConformance({
  name: "openai-compatible",
  adapter: openaiCompatibleAdapter,
  simulator: createOpenAISimulator,
  baseUrlPath: "/v1",
  model: "local-llama",
});

Deno.test("openai-compatible adapter: a keyless route reaches a keyless server", async () => {
  await using sim = await startSimulator(createOpenAISimulator, {
    latency: { ttft_ms: 1, tokens_per_s: 4000, jitter: 0 },
  });
  const target = {
    route: "local",
    provider: "openai-compatible" as const,
    model: "local-llama",
    baseUrl: `${sim.origin}/v1`,
    apiKey: "",
  };
  const upstream = openaiCompatibleAdapter.request(
    {
      model: "x",
      messages: [{ role: "user", content: "Hi" }],
    },
    target,
    { includeUsage: true },
  );
  assert.equal(upstream.headers.authorization, undefined);
  const response = await fetch(upstream.url, {
    method: "POST",
    headers: upstream.headers,
    body: upstream.body,
  });
  const { response: completion } = openaiCompatibleAdapter.response(await response.text(), target);
  assert.equal(completion.model, "local-llama");
  assert.equal(sim.seen.at(-1)!.headers.authorization, undefined);
});
