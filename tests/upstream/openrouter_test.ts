import assert from "node:assert/strict";
import type { UpstreamTarget } from "../../src/upstream/adapter.ts";
import type { ChatRequest } from "../../src/upstream/types.ts";
import { openrouterAdapter } from "../../src/upstream/openrouter/index.ts";
import { openaiAdapter } from "../../src/upstream/openai/index.ts";
import { createOpenRouterSimulator } from "../../src/sim/openrouter.ts";
import { createOpenAISimulator } from "../../src/sim/openai.ts";
import { startSimulator } from "../../src/sim/server.ts";
import { runConformance } from "./conformance.ts";

runConformance({
  name: "openrouter",
  adapter: openrouterAdapter,
  simulator: {
    // The gateway forwards to a real (simulated) provider of its own.
    async start() {
      const openai = await startSimulator(createOpenAISimulator, {
        latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
      });
      const factory = createOpenRouterSimulator({
        processingMs: [1, 2],
        providers: [{
          name: "OpenAI",
          slug: "openai",
          prefix: "openai/",
          adapter: openaiAdapter,
          baseUrl: `${openai.origin}/v1`,
          apiKey: "provider-key",
        }],
      });
      return { factory, [Symbol.asyncDispose]: () => openai.close() };
    },
  },
  baseUrlPath: "/api/v1",
  model: "openai/gpt-4o-mini",
});

const TARGET: UpstreamTarget = {
  route: "via-gateway",
  provider: "openrouter",
  model: "anthropic/claude-sonnet-4.5",
  baseUrl: "https://openrouter.ai/api/v1",
  apiKey: "or-key",
  gateway: {
    provider: { order: ["anthropic"], allow_fallbacks: false },
    models: ["openai/gpt-4o"],
  },
  app: { referer: "https://switchyard.example", title: "Switchyard" },
};

Deno.test("openrouter adapter: the route's gateway options and app headers go out", () => {
  const upstream = openrouterAdapter.request(
    {
      model: "x",
      messages: [{ role: "user", content: "Hi" }],
    },
    TARGET,
    { includeUsage: false },
  );
  const body = JSON.parse(upstream.body);
  assert.equal(upstream.url, "https://openrouter.ai/api/v1/chat/completions");
  assert.equal(body.model, "anthropic/claude-sonnet-4.5");
  assert.deepEqual(body.provider, { order: ["anthropic"], allow_fallbacks: false });
  assert.deepEqual(body.models, ["openai/gpt-4o"]);
  assert.equal(upstream.headers["HTTP-Referer"], "https://switchyard.example");
  assert.equal(upstream.headers["X-Title"], "Switchyard");
});

Deno.test("openrouter adapter: a client's own provider and models never reach the gateway", () => {
  const bare: UpstreamTarget = { ...TARGET, gateway: undefined, app: undefined };
  const upstream = openrouterAdapter.request(
    {
      model: "x",
      messages: [{ role: "user", content: "Hi" }],
      provider: { only: ["somewhere-else"] },
      models: ["other/model"],
    } as ChatRequest,
    bare,
    { includeUsage: false },
  );
  const body = JSON.parse(upstream.body);
  assert.equal(body.provider, undefined);
  assert.equal(body.models, undefined);
  assert.equal(upstream.headers["HTTP-Referer"], undefined);
});

Deno.test("openrouter adapter: the serving provider and the reported cost are read", async () => {
  await using openai = await startSimulator(createOpenAISimulator, {
    latency: { ttft_ms: 1, tokens_per_s: 4000, jitter: 0 },
  });
  await using gateway = await startSimulator(
    createOpenRouterSimulator({
      processingMs: [1, 1],
      providers: [{
        name: "OpenAI",
        slug: "openai",
        prefix: "openai/",
        adapter: openaiAdapter,
        baseUrl: `${openai.origin}/v1`,
        apiKey: "k",
        pricing: { prompt: 1, completion: 4 },
      }],
    }),
    {},
  );
  const target = { ...TARGET, model: "openai/gpt-4o-mini", baseUrl: `${gateway.origin}/api/v1` };
  const upstream = openrouterAdapter.request(
    {
      model: "x",
      messages: [{ role: "user", content: "What does it cost?" }],
    },
    { ...target, gateway: undefined },
    { includeUsage: true },
  );
  const response = await fetch(upstream.url, {
    method: "POST",
    headers: upstream.headers,
    body: upstream.body,
  });
  const completion = openrouterAdapter.response(await response.text(), target);
  assert.equal(completion.servedBy, "OpenAI");
  const usage = completion.usage!;
  const expected = (usage.input_tokens * 1 + usage.output_tokens * 4) / 1e6;
  assert.ok(Math.abs(usage.reported_cost_usd! - expected) < 1e-9);
  assert.equal(gateway.seen.at(-1)!.headers["x-title"], "Switchyard");
});
