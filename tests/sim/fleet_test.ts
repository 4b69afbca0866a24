import assert from "node:assert/strict";
import { startFleet } from "../../src/sim/fleet.ts";
import { FLEET_LATENCY, SIMULATED_PROVIDERS } from "../../src/sim/providers.ts";
import type { Adapter, ProviderName } from "../../src/upstream/adapter.ts";
import { openaiAdapter } from "../../src/upstream/openai/index.ts";
import { mistralAdapter } from "../../src/upstream/mistral/index.ts";
import { openrouterAdapter } from "../../src/upstream/openrouter/index.ts";
import { openaiCompatibleAdapter } from "../../src/upstream/openai-compatible/index.ts";
import { anthropicAdapter } from "../../src/upstream/anthropic/index.ts";
import { geminiAdapter } from "../../src/upstream/gemini/index.ts";

const ROUTES: [ProviderName, Adapter, string][] = [
  ["openai", openaiAdapter, "gpt-4o-mini"],
  ["anthropic", anthropicAdapter, "claude-sonnet-4-5"],
  ["gemini", geminiAdapter, "gemini-2.5-flash"],
  ["mistral", mistralAdapter, "mistral-small-latest"],
  ["openrouter", openrouterAdapter, "google/gemini-2.5-flash"],
  ["openai-compatible", openaiCompatibleAdapter, "local-llama"],
];

Deno.test("fleet: every base URL is what its provider's adapter expects", async () => {
  await using fleet = await startFleet({
    latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
    gateway: { processingMs: [1, 2] },
  });
  for (const [provider, adapter, model] of ROUTES) {
    const target = {
      route: provider,
      provider,
      model,
      baseUrl: fleet.baseUrls[provider],
      apiKey: "k",
    };
    const upstream = adapter.request(
      {
        model: "client",
        messages: [{ role: "user", content: `Hello ${provider}` }],
      },
      target,
      { includeUsage: true },
    );
    const response = await fetch(upstream.url, {
      method: "POST",
      headers: upstream.headers,
      body: upstream.body,
    });
    const body = await response.text();
    assert.equal(response.status, 200, `${provider}: ${body}`);
    const { response: completion } = adapter.response(body, target);
    assert.match(completion.choices[0].message.content ?? "", new RegExp(`Hello ${provider}`));
  }
});

Deno.test("fleet: default latency profiles look like real providers", () => {
  for (const provider of SIMULATED_PROVIDERS.filter((p) => p !== "openrouter")) {
    const { ttft_ms, tokens_per_s } = FLEET_LATENCY[provider];
    assert.ok(ttft_ms >= 200 && ttft_ms <= 600, `${provider} ttft ${ttft_ms}`);
    assert.ok(tokens_per_s >= 50 && tokens_per_s <= 150, `${provider} ${tokens_per_s} tok/s`);
  }
});

Deno.test("fleet: per-provider options override latency and inject faults", async () => {
  await using fleet = await startFleet({
    latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
    providers: { mistral: { fault: { mode: "error" } }, openai: { latency: { ttft_ms: 120 } } },
  });
  assert.equal(fleet.sims.openai.state.options.latency?.ttft_ms, 120);
  assert.equal(fleet.sims.anthropic.state.options.latency?.ttft_ms, 2);
  const response = await fetch(`${fleet.baseUrls.mistral}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
  });
  await response.body?.cancel();
  assert.equal(response.status, 500);
});

Deno.test("fleet: closing it closes every simulator", async () => {
  const fleet = await startFleet({ latency: { ttft_ms: 1 } });
  const urls = Object.values(fleet.sims).map((sim) => sim.origin);
  assert.equal(new Set(urls).size, 5, "each simulator has its own port");
  await fleet.close();
  for (const url of urls) await assert.rejects(fetch(`${url}/v1/models`));
});
