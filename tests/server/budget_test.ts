/**
 * Money through the server: budget facts flip routes before a hard budget blocks with 429;
 * streams are accounted (usage always asked for, withheld when the client did not ask); cut
 * streams are accounted by estimate; per-request caps; and every endpoint that can reach an
 * upstream goes through admission.
 */
import assert from "node:assert/strict";
import { ENDPOINTS } from "../../src/server/app.ts";
import { chat, hello, sseData, startTestServer, type TestServer } from "./harness.ts";

/** Dear when there is budget left, cheap when 50% is spent. */
const POLICY = `
name: money
version: 1
routes:
  dear:
    via: direct
    provider: openai
    model: gpt-4o
    price: { input: 200, output: 400 }
    context_tokens: 128000
  cheap:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 100, output: 200 }
    context_tokens: 128000
  anthropic:
    via: direct
    provider: anthropic
    model: claude-sonnet-4-5
    price: { input: 3, output: 15 }
    context_tokens: 200000
rules:
  - { name: cut, when: '"cut" in tags', route: anthropic }
  - { name: nearly-spent, when: budget.spent_ratio >= 0.5, route: cheap }
default: { route: dear }
`;

const BUDGETS = `
budgets:
  - name: team-day
    scope: { tag: team-x }
    window: day
    limit_usd: 0.2
    mode: hard
  - name: soft-watch
    scope: { tag: watched }
    window: day
    limit_usd: 0.000001
    mode: soft
`;

async function spend(server: TestServer): Promise<Record<string, number>> {
  const report = await (await fetch(`${server.url}/v1/spend`)).json();
  const out: Record<string, number> = {};
  for (const row of report.day.rows) out[`${row.dimension}:${row.id}`] = row.settledNano;
  return out;
}

Deno.test("budget: near the limit the policy flips to the cheap route, then a spent budget answers 429", async () => {
  await using server = await startTestServer({ policy: POLICY, budgets: BUDGETS });
  const routes: string[] = [];
  let blocked: Response | undefined;
  for (let i = 0; i < 200 && !blocked; i++) {
    const response = await chat(server, hello({ max_tokens: 30 }), {
      "x-switchyard-tags": "team-x",
    });
    if (response.status === 429) blocked = response;
    else {
      assert.equal(response.status, 200);
      routes.push(response.headers.get("x-switchyard-route")!);
      await response.body?.cancel();
    }
  }
  assert.ok(blocked, "the hard budget eventually blocked");
  assert.equal(routes[0], "dear");
  const firstCheap = routes.indexOf("cheap");
  assert.ok(firstCheap > 0, `the policy flipped to the cheap route: ${routes.join(",")}`);
  assert.ok(routes.slice(firstCheap).every((r) => r === "cheap"), "and stayed there");
  const error = (await blocked.json()).error;
  assert.equal(error.code, "budget_exceeded");
  assert.equal(error.type, "insufficient_quota");
  assert.equal(error.budget, "team-day");
  assert.match(error.message, /team-day/);
  assert.ok(Date.parse(error.resets_at) > Date.now());
  assert.ok(Number(blocked.headers.get("retry-after")) > 0);
  const spent = await spend(server);
  assert.ok(spent["tag:team-x"] >= 0.2e9 * 0.95, `spent ${spent["tag:team-x"]} nano-USD`);
  // Untagged traffic is not under this budget.
  const other = await chat(server, hello());
  await other.body?.cancel();
  assert.equal(other.status, 200);
});

Deno.test("budget: a soft budget only informs the policy; it never blocks", async () => {
  await using server = await startTestServer({ policy: POLICY, budgets: BUDGETS });
  for (let i = 0; i < 3; i++) {
    const response = await chat(server, hello(), { "x-switchyard-tags": "watched" });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    if (i > 0) assert.equal(response.headers.get("x-switchyard-route"), "cheap");
  }
});

Deno.test("budget: a stream is accounted from its final usage even when the client did not ask for it", async () => {
  await using server = await startTestServer({ policy: POLICY });
  const jsonResponse = await chat(server, hello({}, "same prompt"));
  const usage = (await jsonResponse.json()).usage;
  const afterJson = await spend(server);
  const streamed = await sseData(await chat(server, hello({ stream: true }, "same prompt")));
  assert.equal(streamed.at(-1), "[DONE]");
  assert.ok(
    streamed.slice(0, -1).every((d) => JSON.parse(d).choices.length > 0),
    "no usage chunk reached a client that did not ask",
  );
  const afterStream = await spend(server);
  const perRequest = afterJson["route:dear"];
  assert.ok(perRequest > 0);
  assert.equal(
    afterStream["route:dear"],
    perRequest * 2,
    "the stream cost what the JSON call cost",
  );
  assert.equal(
    perRequest,
    Math.round(((usage.prompt_tokens * 200 + usage.completion_tokens * 400) / 1e6) * 1e9),
  );
});

Deno.test("budget: a stream cut mid-way is accounted by estimate", async () => {
  await using server = await startTestServer({ policy: POLICY });
  const sim = server.fleet.sims.anthropic;
  sim.configure({ ...sim.state.options, fault: { mode: "mid_stream_cut", after_chunks: 3 } });
  const data = await sseData(
    await chat(server, hello({ stream: true }), { "x-switchyard-tags": "cut" }),
  );
  assert.ok(!data.includes("[DONE]"));
  const spent = await spend(server);
  assert.ok(spent["route:anthropic"] > 0, "the cut stream's spend was recorded");
});

Deno.test("budget: routes whose estimate exceeds x-switchyard-max-cost-usd are ineligible", async () => {
  await using server = await startTestServer({ policy: POLICY });
  const response = await chat(server, hello(), { "x-switchyard-max-cost-usd": "0.000001" });
  assert.equal(response.status, 503);
  const error = (await response.json()).error;
  assert.match(error.message, /exceeds the cap/);
  const roomy = await chat(server, hello(), { "x-switchyard-max-cost-usd": "5" });
  await roomy.body?.cancel();
  assert.equal(roomy.status, 200);
});

Deno.test("budget: every endpoint that can reach an upstream goes through admission", async () => {
  await using server = await startTestServer({
    policy: POLICY,
    budgets: `
budgets:
  - { name: nothing-left, scope: { tag: broke }, window: month, limit_usd: 0, mode: hard }
`,
  });
  const upstreamEndpoints = ENDPOINTS.filter((e) => e.reachesUpstream);
  assert.ok(upstreamEndpoints.length >= 1);
  for (const endpoint of upstreamEndpoints) {
    const before = server.fleet.sims.openai.seen.length;
    const response = await fetch(`${server.url}${endpoint.path}`, {
      method: endpoint.method,
      headers: { "content-type": "application/json", "x-switchyard-tags": "broke" },
      body: endpoint.method === "POST" ? JSON.stringify(hello()) : undefined,
    });
    assert.equal(response.status, 429, `${endpoint.method} ${endpoint.path}`);
    assert.equal((await response.json()).error.code, "budget_exceeded");
    assert.equal(server.fleet.sims.openai.seen.length, before, "nothing reached the upstream");
  }
});
