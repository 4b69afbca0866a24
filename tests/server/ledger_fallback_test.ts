/**
 * Reservations cover the fallbacks: a request is reserved at the estimate of the dearest route
 * that may serve it (a route over its cost cap is never tried, so it does not count), so a primary
 * failing over to a dearer route cannot spend a hard budget past the in-flight reservations.
 */
import assert from "node:assert/strict";
import { estimateRequestCost, nanoToUsd, usdToNano } from "../../src/budget/cost.ts";
import { startTestServer } from "./harness.ts";
import { type Call, nanoOf, promptTokens, readSpend, send } from "./ledger_e2e.ts";
import { startStubUpstream } from "./stub_upstream.ts";

/** A cheap primary and a thousand times dearer fallback; `primary` is set per test. */
function policy(primary: string): string {
  return `
name: fallback-money
version: 1
routes:
  ${primary}
  dear:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 1000, output: 1000 }
    context_tokens: 128000
default: { route: cheap, fallbacks: [dear] }
`;
}

const CHEAP_SIMULATED = `cheap:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 1, output: 1 }
    context_tokens: 128000`;

const LIMIT_USD = 0.5;
const WORKERS = 8;

Deno.test("ledger e2e: a primary failing over to a dearer route cannot overspend a hard budget", async () => {
  await using server = await startTestServer({
    policy: policy(CHEAP_SIMULATED),
    budgets: `
budgets:
  - { name: cap, scope: { tag: t }, window: day, limit_usd: ${LIMIT_USD}, mode: hard }
`,
    fleet: { providers: { openai: { fault: { mode: "error" } } } },
  });
  const prices = server.app.context.policies.current.policy.routes;
  // Output well under max_tokens, so the actual cost stays under the estimate.
  const call: Call = { route: "auto", stream: false, tags: ["t"], maxTokens: 100, content: "Hi" };
  const dearEstimate = estimateRequestCost(
    { promptTokens: await promptTokens(server.url, call), maxTokens: call.maxTokens },
    prices.dear.price,
  ).nanoUsd;
  let served = 0;
  const client = async () => {
    for (let k = 0; k < 50; k++) {
      const seen = await send(server.url, call);
      if (seen.status === 429) return;
      assert.equal(seen.status, 200, JSON.stringify(seen.error));
      assert.equal(seen.route, "dear", "served by the fallback");
      assert.ok(nanoOf(seen.usage!, prices.dear.price) <= dearEstimate);
      served++;
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, client));
  const row = (await readSpend(server.url)).day.rows.get("tag:t")!;
  assert.ok(served > 1);
  assert.ok(
    row.settledNano <= usdToNano(LIMIT_USD) + dearEstimate,
    `spent ${row.settledNano} ≤ limit ${usdToNano(LIMIT_USD)} + one reservation ${dearEstimate}`,
  );
});

/** What a request held on its budget while in flight: a second request's 429 reports it. */
async function heldWhileInFlight(headers: Record<string, string>) {
  await using upstream = startStubUpstream({ hold: true });
  await using server = await startTestServer({
    policy: policy(`cheap:
    via: direct
    provider: openai-compatible
    model: held-model
    base_url: ${upstream.origin}/v1
    price: { input: 1, output: 1 }
    context_tokens: 8192`),
    budgets: `
budgets:
  - { name: tiny, scope: { tag: t }, window: day, limit_usd: 0.000001, mode: hard }
`,
  });
  const body = {
    model: "auto",
    messages: [{ role: "user", content: "Hold on" }],
    max_tokens: 16,
    stream: true,
  };
  const post = () =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-switchyard-tags": "t", ...headers },
      body: JSON.stringify(body),
    });
  const first = await post();
  assert.equal(first.status, 200);
  await upstream.holding;
  const second = await post();
  assert.equal(second.status, 429);
  const { error } = await second.json();
  upstream.release();
  await first.body?.cancel();
  const prices = server.app.context.policies.current.policy.routes;
  const tokens = (await (await fetch(`${server.url}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-switchyard-tags": "t", ...headers },
    body: JSON.stringify(body),
  })).json()).facts.prompt.tokens;
  const estimate = (route: "cheap" | "dear") =>
    nanoToUsd(
      estimateRequestCost({ promptTokens: tokens, maxTokens: 16 }, prices[route].price).nanoUsd,
    );
  return { heldUsd: error.spent_usd as number, cheap: estimate("cheap"), dear: estimate("dear") };
}

Deno.test("ledger e2e: a request holds the estimate of its dearest fallback while in flight", async () => {
  const { heldUsd, dear } = await heldWhileInFlight({});
  assert.equal(heldUsd, dear);
});

Deno.test("ledger e2e: a fallback over the request's cost cap is not reserved for", async () => {
  const { heldUsd, cheap, dear } = await heldWhileInFlight({
    "x-switchyard-max-cost-usd": "0.001",
  });
  assert.ok(cheap <= 0.001 && dear > 0.001, `the cap lies between ${cheap} and ${dear}`);
  assert.equal(heldUsd, cheap);
});
