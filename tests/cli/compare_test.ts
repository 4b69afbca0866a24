/** `deno task compare` end to end against the simulators, as a real process. */
import assert from "node:assert/strict";

Deno.test("compare: direct and gateway routes measured side by side, with trace ids to open", async () => {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: [
      "task",
      "compare",
      "--requests",
      "6",
      "--concurrency",
      "2",
      "--prompt-tokens",
      "50,500",
      "--stream",
      "--json",
      "--sim-latency-scale",
      "0.05",
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const report = JSON.parse(out);
  assert.equal(report.requests, 6);
  assert.equal(report.stream, true);
  assert.deepEqual(report.routes.map((r: { route: string; via: string }) => [r.route, r.via]), [
    ["gpt-mini", "direct"],
    ["or-gpt-mini", "gateway"],
  ]);
  const traceIds = new Set<string>();
  for (const route of report.routes) {
    assert.equal(route.n, 6);
    assert.equal(route.errors, 0);
    assert.equal(route.simulated, true);
    assert.ok(route.total_ms.p50 > 0 && route.total_ms.p50 <= route.total_ms.p95);
    assert.ok(route.ttft_ms.p50 > 0 && route.ttft_ms.p50 <= route.total_ms.p50);
    assert.ok(route.usd_per_1k_tokens > 0);
    assert.match(route.median_trace_id, /^[0-9a-f]{32}$/);
    assert.match(route.slowest_trace_id, /^[0-9a-f]{32}$/);
    traceIds.add(route.median_trace_id);
  }
  assert.equal(traceIds.size, 2, "each request is its own trace");
  for (const key of ["p50_ms", "p95_ms", "p99_ms", "p50_pct", "ttft_p50_ms"]) {
    assert.equal(typeof report.gatewayAdded[key], "number", key);
  }
});

Deno.test("compare: the table names both routes and the gateway's added latency", async () => {
  const { code, stdout } = await new Deno.Command("deno", {
    args: ["task", "compare", "--requests", "2", "--sim-latency-scale", "0.05"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0);
  assert.match(out, /\| gpt-mini \| direct \| 2 \| 0\.0% \|/);
  assert.match(out, /\| or-gpt-mini \| gateway \| 2 \| 0\.0% \|/);
  assert.match(out, /Gateway added latency: p50 [+-]\d/);
  assert.match(out, /median [0-9a-f]{32}/);
});

Deno.test("compare: a route that is not a gateway is a usage error", async () => {
  const { code, stderr } = await new Deno.Command("deno", {
    args: ["task", "compare", "--gateway", "gpt-4o"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 64);
  assert.match(new TextDecoder().decode(stderr), /not a gateway route/);
});
