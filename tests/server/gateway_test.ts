/**
 * OpenRouter through the server: a gateway route's `provider` preferences and `models` reach the
 * gateway (and the simulated gateway honours them), the app attribution headers go to the
 * gateway only, and none of it leaks into a fallback's request to a direct route.
 */
import assert from "node:assert/strict";
import { chat, hello, sseData, startTestServer } from "./harness.ts";
import { startStubUpstream, type StubUpstream } from "./stub_upstream.ts";

const ROUTES = `
  openai:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
`;

/** Gateway routes to the simulated OpenRouter, each steering it differently. */
const SIM_POLICY = `
name: gateway
version: 1
routes:${ROUTES}
  azure-only:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
    gateway: { provider: { only: [azure] } }
  anthropic-models:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
    gateway:
      provider: { only: [anthropic] }
      models: [anthropic/claude-haiku-4.5]
rules:
  - { name: pinned, when: '$isRoute(request.model)', route: $model }
default: { route: openai }
`;

Deno.test("gateway: a route's provider preferences and models steer the simulated OpenRouter", async () => {
  await using server = await startTestServer({ policy: SIM_POLICY });
  const azure = await chat(server, hello({ model: "azure-only" }));
  assert.equal(azure.status, 200);
  assert.equal(azure.headers.get("x-switchyard-via"), "gateway");
  assert.equal(azure.headers.get("x-switchyard-route"), "azure-only");
  assert.equal((await azure.json()).provider, "Azure", "only: [azure] picked the Azure endpoint");

  const anthropicBefore = server.fleet.sims.anthropic.seen.length;
  const viaModels = await chat(server, hello({ model: "anthropic-models", stream: true }));
  assert.equal(viaModels.headers.get("x-switchyard-via"), "gateway");
  const data = await sseData(viaModels);
  assert.equal(data.at(-1), "[DONE]");
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.equal(chunks[0].model, "anthropic/claude-haiku-4.5", "the models fallback served");
  assert.equal(chunks[0].provider, "Anthropic");
  assert.equal(server.fleet.sims.anthropic.seen.length, anthropicBefore + 1);
});

Deno.test("gateway: HTTP-Referer and X-Title go to the gateway and not to direct routes", async () => {
  await using server = await startTestServer({
    policy: SIM_POLICY,
    config: { appReferer: "https://example.test/app", appTitle: "Switchyard tests" },
  });
  for (const model of ["azure-only", "openai"]) {
    const response = await chat(server, hello({ model }));
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const toGateway = server.fleet.sims.openrouter.seen.filter((s) => s.method === "POST");
  assert.equal(toGateway.length, 1);
  assert.equal(toGateway[0].headers["http-referer"], "https://example.test/app");
  assert.equal(toGateway[0].headers["x-title"], "Switchyard tests");
  // The direct request (the gateway's own hop to the provider is the other one seen).
  const direct = server.fleet.sims.openai.seen.filter((s) => s.method === "POST");
  assert.ok(direct.length >= 1);
  for (const seen of direct) {
    assert.equal(seen.headers["http-referer"], undefined);
    assert.equal(seen.headers["x-title"], undefined);
  }
});

/** A gateway route and a direct fallback, both live against the stub (their keys are set). */
function stubPolicy(upstream: StubUpstream): string {
  return `
name: gateway-bodies
version: 1
routes:
  gw:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    base_url: ${upstream.origin}/gw/api/v1
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
    gateway:
      provider: { order: [azure, openai], allow_fallbacks: false }
      models: [openai/gpt-4o]
  direct:
    via: direct
    provider: openai
    model: gpt-4o-mini
    base_url: ${upstream.origin}/direct/v1
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
default: { route: gw, fallbacks: [direct] }
`;
}

const KEYS = { OPENROUTER_API_KEY: "or-key", OPENAI_API_KEY: "oa-key" };

Deno.test("gateway: the route's provider and models are in the gateway's request body, replacing the client's", async () => {
  await using upstream = startStubUpstream();
  await using server = await startTestServer({ policy: stubPolicy(upstream), env: KEYS });
  const response = await chat(
    server,
    hello({ provider: { only: ["somewhere-else"] }, models: ["vendor/other"] }),
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(response.headers.get("x-switchyard-via"), "gateway");
  assert.equal(upstream.seen.length, 1);
  const [seen] = upstream.seen;
  assert.equal(seen.path, "/gw/api/v1/chat/completions");
  assert.equal(seen.body.model, "openai/gpt-4o-mini");
  assert.deepEqual(seen.body.provider, { order: ["azure", "openai"], allow_fallbacks: false });
  assert.deepEqual(seen.body.models, ["openai/gpt-4o"]);
  assert.equal(seen.headers.get("authorization"), "Bearer or-key");
  assert.equal(seen.headers.get("http-referer"), "https://github.com/switchyard/switchyard");
  assert.equal(seen.headers.get("x-title"), "Switchyard");
});

for (const stream of [false, true]) {
  Deno.test(`gateway: a fallback from the gateway to a direct route carries no provider, models or app headers (${stream ? "streaming" : "JSON"})`, async () => {
    await using upstream = startStubUpstream({
      failStatus: (path) => path.startsWith("/gw/") ? 503 : undefined,
    });
    await using server = await startTestServer({ policy: stubPolicy(upstream), env: KEYS });
    const response = await chat(server, hello({ stream }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-switchyard-route"), "direct");
    assert.equal(response.headers.get("x-switchyard-via"), "direct");
    assert.equal(response.headers.get("x-switchyard-attempts"), "2");
    if (stream) assert.equal((await sseData(response)).at(-1), "[DONE]");
    else await response.body?.cancel();

    assert.deepEqual(upstream.seen.map((s) => s.path), [
      "/gw/api/v1/chat/completions",
      "/direct/v1/chat/completions",
    ]);
    const [gateway, direct] = upstream.seen;
    assert.ok("provider" in gateway.body && "models" in gateway.body);
    assert.equal(direct.body.model, "gpt-4o-mini");
    assert.equal("provider" in direct.body, false);
    assert.equal("models" in direct.body, false);
    assert.equal(direct.headers.get("authorization"), "Bearer oa-key");
    assert.equal(direct.headers.get("http-referer"), null);
    assert.equal(direct.headers.get("x-title"), null);
  });
}

Deno.test("gateway: a `$request` route passes on the model the client asked for", async () => {
  await using stub = startStubUpstream();
  const policy = `
name: any
version: 1
accept_models: ["*/*"]
routes:
  any:
    via: gateway
    provider: openrouter
    model: $request
    base_url: ${stub.origin}/api/v1
    price: { input: 1, output: 4 }
    context_tokens: 128000
    gateway: { models: [google/gemini-2.5-flash] }
default: { route: any }
`;
  await using server = await startTestServer({ policy, env: { OPENROUTER_API_KEY: "or-key" } });
  const response = await chat(server, { ...hello(), model: "meta-llama/llama-3.3-70b-instruct" });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(stub.seen.at(-1)?.body.model, "meta-llama/llama-3.3-70b-instruct");
  assert.deepEqual(stub.seen.at(-1)?.body.models, ["google/gemini-2.5-flash"]);
  const models = await (await fetch(`${server.url}/v1/models`)).json();
  assert.equal(models.data[1].switchyard.model, "$request");
});

Deno.test("gateway: `auto` is accepted even when accept_models does not list it", async () => {
  await using stub = startStubUpstream();
  const policy = `
name: strict
version: 1
accept_models: ["*/*"]
routes:
  any: { via: gateway, provider: openrouter, model: openai/gpt-4o-mini, base_url: "${stub.origin}/api/v1", price: { input: 1, output: 1 }, context_tokens: 1000 }
default: { route: any }
`;
  await using server = await startTestServer({ policy, env: { OPENROUTER_API_KEY: "k" } });
  const response = await chat(server, hello());
  assert.equal(response.status, 200);
  await response.body?.cancel();
});
