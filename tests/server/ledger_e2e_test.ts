/**
 * The ledger end to end, through the real server: 500 concurrent requests (JSON and streams, over
 * every wire format, cached input and a gateway's reported cost among them) leave `/v1/spend`
 * equal, to the nano-dollar, to the sum of what their responses' usage costs — on the embedded KV
 * store and on Redis; and a 429 names the UTC boundary at which its budget resets.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config.ts";
import { startTestServer } from "./harness.ts";
import {
  addTo,
  type Call,
  dropNamespace,
  inOneUtcDay,
  LEDGER_POLICY,
  nanoOf,
  pool,
  readSpend,
  send,
  testNamespace,
  type WindowSpend,
} from "./ledger_e2e.ts";

const REDIS_URL = Deno.env.get("REDIS_URL");

/** Budgets that apply (so every request reserves and settles) but never block this load. */
const ROOMY_BUDGETS = `
budgets:
  - { name: alpha-cap, scope: { tag: alpha }, window: day, limit_usd: 1000, mode: hard }
  - { name: all-watch, scope: { tag: all }, window: month, limit_usd: 1000, mode: soft }
`;

const ROUTES = ["openai", "anthropic", "gemini", "mistral", "gateway"];
const REQUESTS = 500;
const IN_FLIGHT = 50;
/** Long enough (over 1024 tokens) that the OpenAI simulator reports it as cached the next time. */
const LONG_SYSTEM = "You are a careful assistant who answers briefly. ".repeat(120);

/** Request `i`: every route, JSON and stream, varied prompts, output limits and tags. */
function callAt(i: number): Call {
  const route = ROUTES[i % ROUTES.length];
  return {
    route,
    stream: i % 2 === 1,
    tags: ["all", i % 3 === 0 ? "alpha" : "beta"],
    maxTokens: 8 + (i % 41),
    content: `Request ${i}: ${"tell me about ledgers ".repeat(1 + (i % 7))}`,
    ...(route === "openai" && i % 3 === 0 ? { system: LONG_SYSTEM } : {}),
  };
}

/** Asserts a window's settled spend, request count and (zero) holds per scope. */
function assertWindow(
  window: WindowSpend,
  expected: { nano: Map<string, number>; count: Map<string, number>; total: number },
) {
  for (const [scope, nano] of expected.nano) {
    const row = window.rows.get(scope);
    assert.ok(row, `${window.period}: a row for ${scope}`);
    assert.equal(row.settledNano, nano, `${window.period}: spend of ${scope}`);
    assert.equal(row.requests, expected.count.get(scope), `${window.period}: requests of ${scope}`);
  }
  for (const [scope, row] of window.rows) {
    assert.equal(row.heldNano, 0, `${window.period}: nothing still held on ${scope}`);
  }
  assert.equal(window.totalNano, expected.total, `${window.period}: total spend`);
}

async function exactSum(config: Partial<Config>): Promise<void> {
  await using server = await startTestServer({
    policy: LEDGER_POLICY,
    budgets: ROOMY_BUDGETS,
    config,
  });
  const prices = server.app.context.policies.current.policy.routes;
  const calls = Array.from({ length: REQUESTS }, (_, i) => callAt(i));
  const seen = await pool(REQUESTS, IN_FLIGHT, (i) => send(server.url, calls[i]));

  const nano = new Map<string, number>();
  const count = new Map<string, number>();
  let total = 0;
  let cachedHits = 0;
  let reportedCosts = 0;
  seen.forEach((s, i) => {
    const call = calls[i];
    assert.equal(s.status, 200, `request ${i}: ${JSON.stringify(s.error)}`);
    assert.ok(s.complete, `request ${i} ended with [DONE]`);
    assert.ok(s.usage, `request ${i} carried usage`);
    assert.equal(s.route, call.route, `request ${i} was served by its pinned route`);
    if ((s.usage.prompt_tokens_details?.cached_tokens ?? 0) > 0) cachedHits++;
    if (typeof s.usage.cost === "number") reportedCosts++;
    const cost = nanoOf(s.usage, prices[call.route].price);
    total += cost;
    for (const scope of [`route:${call.route}`, ...call.tags.map((t) => `tag:${t}`)]) {
      addTo(nano, scope, cost);
      addTo(count, scope, 1);
    }
  });
  assert.ok(cachedHits > 0, "some requests were billed for cached input");
  assert.equal(reportedCosts, REQUESTS / ROUTES.length, "every gateway answer reported its cost");
  assert.ok(total > 0);

  const spend = await readSpend(server.url);
  assertWindow(spend.day, { nano, count, total });
  assertWindow(spend.month, { nano, count, total });
}

Deno.test("ledger e2e: 500 concurrent requests leave the KV ledger equal to the exact sum of their usage", async () => {
  await inOneUtcDay(async () => {
    const dir = await Deno.makeTempDir({ prefix: "switchyard-ledger-" });
    try {
      await exactSum({ store: `kv:${dir}/spend.kv` });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test({
  name:
    "ledger e2e: 500 concurrent requests leave the Redis ledger equal to the exact sum of their usage",
  ignore: !REDIS_URL,
  async fn() {
    await inOneUtcDay(async () => {
      const namespace = testNamespace();
      try {
        await exactSum({ store: REDIS_URL, storeNamespace: namespace });
      } finally {
        await dropNamespace(REDIS_URL!, namespace);
      }
    });
  },
});

/** Spent from the start: a limit of zero. `both` has a day and a month budget. */
const SPENT_BUDGETS = `
budgets:
  - { name: daily-zero, scope: { tag: daily }, window: day, limit_usd: 0, mode: hard }
  - { name: monthly-zero, scope: { tag: monthly }, window: month, limit_usd: 0, mode: hard }
  - { name: both-day, scope: { tag: both }, window: day, limit_usd: 0, mode: hard }
  - { name: both-month, scope: { tag: both }, window: month, limit_usd: 0, mode: hard }
`;

/** The first instant of the next UTC day, or of the next UTC month. */
function nextBoundary(window: "day" | "month", at: Date): string {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const next = window === "day" ? Date.UTC(y, m, at.getUTCDate() + 1) : Date.UTC(y, m + 1, 1);
  return new Date(next).toISOString();
}

Deno.test("ledger e2e: a 429 says its budget resets at the next UTC day or month boundary", async () => {
  await using server = await startTestServer({ policy: LEDGER_POLICY, budgets: SPENT_BUDGETS });
  const cases = [
    { tag: "daily", budget: "daily-zero", window: "day" },
    { tag: "monthly", budget: "monthly-zero", window: "month" },
    // Blocked by both: the one that resets last is named, since nothing passes before it.
    { tag: "both", budget: "both-month", window: "month" },
  ] as const;
  for (const { tag, budget, window } of cases) {
    const before = new Date();
    const call: Call = {
      route: "mistral",
      stream: false,
      tags: [tag],
      maxTokens: 8,
      content: "hi",
    };
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-switchyard-tags": tag },
      body: JSON.stringify({
        model: call.route,
        messages: [{ role: "user", content: call.content }],
        max_tokens: call.maxTokens,
      }),
    });
    const after = new Date();
    assert.equal(response.status, 429, tag);
    const { error } = await response.json();
    assert.equal(error.code, "budget_exceeded");
    assert.equal(error.budget, budget);
    assert.equal(error.window, window);
    // A request that straddles the boundary may name either side of it.
    const expected = [nextBoundary(window, before), nextBoundary(window, after)];
    assert.ok(expected.includes(error.resets_at), `${tag}: ${error.resets_at} in ${expected}`);
    assert.match(error.message, new RegExp(error.resets_at.replaceAll(".", "\\.")));
    const retryAfter = Number(response.headers.get("retry-after"));
    const resetsAt = Date.parse(error.resets_at);
    assert.ok(
      retryAfter >= Math.floor((resetsAt - after.getTime()) / 1000) &&
        retryAfter <= Math.ceil((resetsAt - before.getTime()) / 1000),
      `${tag}: Retry-After ${retryAfter} s counts down to ${error.resets_at}`,
    );
  }
  assert.equal(server.fleet.sims.mistral.seen.length, 0, "nothing reached the upstream");
});
