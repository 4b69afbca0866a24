/** policy diff: flips, cost and latency deltas on a generated log, checked by hand. */
import assert from "node:assert/strict";
import {
  diffFromShadow,
  type DiffInput,
  diffPolicies,
  testCaseInputs,
} from "../../src/policy/diff.ts";
import { flipSelected, requestCost, tokensOf } from "../../src/policy/diff_tally.ts";
import { renderDiff } from "../../src/policy/diff_report.ts";
import { decide } from "../../src/policy/decide.ts";
import { loadPolicy, parsePolicy } from "../../src/policy/load.ts";
import { policyRef, stickyKeyOf } from "../../src/policy/replay.ts";
import type { DecisionRecord } from "../../src/log/record.ts";
import { loggedDecision } from "../../src/log/redact.ts";
import { generateRecords, logText } from "../log/generate.ts";
import { TIERS, tiersCost, tiersDecision } from "./tiers_oracle.ts";

const base = await loadPolicy(TIERS);
const tiersText = await Deno.readTextFile(TIERS);
const lowered = await parsePolicy(
  tiersText.replace("when: prompt.tokens <= 2000\n", "when: prompt.tokens <= 1500\n"),
  "lowered.yaml",
);
const records = await generateRecords(base, { count: 500, seed: 3, bandShare: 0.2 });

function inputsOf(rs: DecisionRecord[]): DiffInput[] {
  return rs.map((r) => ({
    id: r.request_id,
    facts: r.facts,
    stickyKey: stickyKeyOf(r),
    usage: r.usage,
    servedBy: r.served_by,
    attempts: r.attempts,
  }));
}

const source = { kind: "log" as const, files: ["generated"], warnings: [] };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

Deno.test("diff: lowering a threshold flips exactly the band, with the cost and latency it implies", async () => {
  const report = await diffPolicies(
    { policy: base, ref: { ...policyRef(base), revision: "HEAD" } },
    lowered,
    inputsOf(records),
    source,
  );
  const moved = records.filter((r) =>
    tiersDecision(r.facts).route !== tiersDecision(r.facts, 1500).route
  );
  assert.ok(moved.length > 30, `enough requests in the band, got ${moved.length}`);
  assert.equal(report.requests, 500);
  assert.equal(report.flipped, moved.length);
  assert.equal(report.flips.length, 1);
  const [flip] = report.flips;
  assert.deepEqual([flip.from, flip.to, flip.count], ["gpt-mini", "claude-haiku", moved.length]);
  assert.deepEqual(flip.examples, moved.slice(0, 3).map((r) => r.request_id));
  assert.equal(flip.share, moved.length / 500);
  const diagonal = report.matrix.cells.find((c) => c.from === "gpt-mini" && c.to === "gpt-mini")!;
  const stayed = records.filter((r) => tiersDecision(r.facts, 1500).rule === "small-prompt");
  assert.equal(diagonal.count, stayed.length);

  const expectedDelta = moved.reduce(
    (sum, r) => sum + tiersCost(r, "claude-haiku") - tiersCost(r, "gpt-mini"),
    0,
  );
  assert.ok(report.cost.deltaUsd > 0, "Claude Haiku costs more than gpt-mini");
  assert.ok(Math.abs(report.cost.deltaUsd - expectedDelta) < 1e-12);
  assert.ok(Math.abs(flip.costDeltaUsd - expectedDelta) < 1e-12);
  assert.equal(report.cost.tokens.input.usage, records.filter((r) => r.usage).length);

  const okLatencies = (route: string) =>
    records.flatMap((r) => r.attempts).filter((a) => a.route === route && a.outcome === "ok")
      .map((a) => a.latency_ms);
  const latencyDelta = median(okLatencies("claude-haiku")) - median(okLatencies("gpt-mini"));
  assert.equal(flip.latencyDeltaMs, latencyDelta);
  assert.ok(latencyDelta > 0);

  const rule = (name: string | null) => report.rules.find((r) => r.rule === name)!;
  assert.equal(rule("small-prompt").delta, -moved.length);
  assert.equal(rule("medium-prompt").delta, moved.length);
  assert.equal(report.via.directToGateway + report.via.gatewayToDirect, 0);
});

Deno.test("diff: moving a rule to a gateway route shows as a direct → gateway shift", async () => {
  const gateway = await parsePolicy(
    tiersText.replace(
      "when: prompt.tokens <= 2000\n    route: gpt-mini\n    fallbacks: [or-gpt-mini, mistral-small]",
      "when: prompt.tokens <= 2000\n    route: or-gpt-mini\n    fallbacks: [mistral-small]",
    ),
    "gateway.yaml",
  );
  const report = await diffPolicies(
    { policy: base, ref: policyRef(base) },
    gateway,
    inputsOf(records),
    source,
  );
  const small = records.filter((r) => tiersDecision(r.facts).rule === "small-prompt").length;
  assert.equal(report.via.directToGateway, small);
  assert.equal(report.via.gatewayToDirect, 0);
  assert.equal(report.via.head.gateway - report.via.base.gateway, small);
});

Deno.test("diff: --fail-on-flip selectors match routes on either side, or request tags", () => {
  const o = (from: string, to: string, tags: string[] = []) => ({
    id: "r",
    tags,
    base: { rule: null, route: from, via: "direct" as const },
    head: { rule: null, route: to, via: "direct" as const },
    tokens: tokensOf(records[0].facts),
  });
  assert.equal(flipSelected(o("a", "b"), []), true);
  assert.equal(flipSelected(o("a", "a"), []), false, "no flip, nothing to fail on");
  assert.equal(flipSelected(o("a", "b"), ["b"]), true);
  assert.equal(flipSelected(o("a", "b"), ["c", "tag:eu"]), false);
  assert.equal(flipSelected(o("a", "b", ["eu"]), ["tag:EU"]), true);
});

Deno.test("diff: cached tokens are cheap only on the route that cached them", () => {
  const facts = structuredClone(records[0].facts);
  facts.request.max_tokens = 100;
  const tokens = tokensOf(facts, {
    input_tokens: 1000,
    output_tokens: 10,
    cached_input_tokens: 800,
  });
  assert.deepEqual([tokens.inputFrom, tokens.outputFrom], ["usage", "usage"]);
  const price = { input: 1, cached_input: 0.1, output: 2 };
  assert.equal(requestCost(price, tokens, true), (200 * 1 + 800 * 0.1 + 10 * 2) / 1e6);
  assert.equal(requestCost(price, tokens, false), (1000 * 1 + 10 * 2) / 1e6);
  const estimated = tokensOf(facts);
  assert.deepEqual(
    [estimated.input, estimated.output, estimated.inputFrom, estimated.outputFrom],
    [facts.prompt.tokens, 100, "prompt_estimate", "max_tokens"],
  );
  delete facts.request.max_tokens;
  assert.deepEqual([tokensOf(facts).output, tokensOf(facts).outputFrom], [512, "default"]);
});

Deno.test("diff: flips read from a log's shadow decisions match a replay of the same change", async () => {
  const shadowed: DecisionRecord[] = [];
  for (const r of records) {
    const d = await decide(lowered, r.facts, { stickyKey: stickyKeyOf(r) });
    shadowed.push({ ...r, shadow: { ...loggedDecision(d), policy: d.policy } });
  }
  shadowed[0] = { ...shadowed[0], shadow: undefined };
  const dir = await Deno.makeTempDir({ prefix: "switchyard-shadow-" });
  try {
    const path = `${dir}/decisions.jsonl`;
    await Deno.writeTextFile(path, logText(shadowed));
    const fromShadow = await diffFromShadow([path], { candidate: lowered, failOnFlip: ["tag:eu"] });
    const replayed = await diffPolicies(
      { policy: base, ref: policyRef(base) },
      lowered,
      inputsOf(records.slice(1)),
      source,
    );
    assert.equal(fromShadow.source.withoutShadow, 1);
    assert.equal(fromShadow.requests, 499);
    assert.deepEqual(fromShadow.flips, replayed.flips);
    assert.ok(Math.abs(fromShadow.cost.deltaUsd - replayed.cost.deltaUsd) < 1e-12);
    assert.equal(fromShadow.head.hash, lowered.hash);
    assert.deepEqual(fromShadow.failOnFlip, { selectors: ["tag:eu"], matched: 0, failed: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff: without a log, the policy's test cases are the requests compared", async () => {
  const warnings: never[] = [];
  const inputs = await testCaseInputs(
    "tests/fixtures/review/tiers.test.yaml",
    lowered.routeFacts,
    warnings,
  );
  const report = await diffPolicies({ policy: base, ref: policyRef(base) }, lowered, inputs, {
    kind: "tests",
    files: ["tests/fixtures/review/tiers.test.yaml"],
    warnings,
  }, { failOnFlip: [] });
  assert.equal(report.requests, 5);
  assert.deepEqual(report.flips.map((f) => [f.from, f.to, f.examples]), [
    ["gpt-mini", "claude-haiku", ["a prompt of 1800 tokens is small"]],
  ]);
  assert.equal(report.latency.known, 0, "test cases carry no latencies");
  assert.deepEqual(report.failOnFlip, { selectors: [], matched: 1, failed: true });
  const md = renderDiff(report, "markdown");
  assert.match(md, /^\| base ↓ \/ head → \|( (gpt-mini|claude-haiku) \|){2}$/m);
  assert.match(md, /^\| gpt-mini \| 1 \(20\.0%\) \| 1 \(20\.0%\) \|$/m);
  assert.match(md, /^\| gpt-mini \| claude-haiku \| 1 \| 20\.0% \| direct \|/m);
  assert.match(md, /Latency: unknown \(test cases carry no latencies/);
});
