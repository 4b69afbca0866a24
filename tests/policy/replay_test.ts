/** Replay: re-deciding a generated log, checked against counts computed by hand. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyHealth } from "../../src/facts/facts.ts";
import { estimateCost } from "../../src/facts/cost.ts";
import { loadPolicy, parsePolicy } from "../../src/policy/load.ts";
import { replayDecisions, replayFacts, replayLog } from "../../src/policy/replay.ts";
import { renderReplay } from "../../src/policy/replay_report.ts";
import { generateRecords, logText } from "../log/generate.ts";
import { TIERS, tiersDecision } from "./tiers_oracle.ts";

const policy = await loadPolicy(TIERS);
const records = await generateRecords(policy, { count: 600, seed: 11 });

/** Counts by key, the way the oracle sees the records. */
function tally(keys: (string | null)[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

Deno.test("replay: per-rule and per-route counts of a generated log match the hand-written oracle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-replay-" });
  try {
    const path = join(dir, "decisions.jsonl");
    await Deno.writeTextFile(path, logText(records));
    const report = await replayLog(policy, [path]);
    const expected = records.map((r) => tiersDecision(r.facts));
    const rules = tally(expected.map((d) => d.rule));
    const routes = tally(expected.map((d) => d.route));

    assert.equal(report.requests, 600);
    assert.equal(report.changed, 0, "the policy that wrote the log decides the same");
    for (const r of report.rules) assert.equal(r.count, rules.get(r.rule) ?? 0, `rule ${r.rule}`);
    for (const r of report.routes) {
      assert.equal(r.count, routes.get(r.route) ?? 0, `route ${r.route}`);
    }
    assert.ok(rules.size >= 9, "the generated log exercises every rule but one, and the default");
    assert.deepEqual(report.neverFired, ["tools"]);
    assert.equal(report.rules.at(-1)!.rule, null, "the default comes last");
    const sum = report.routes.reduce((s, r) => s + r.share, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay: a lower threshold moves exactly the prompts between the thresholds", async () => {
  const text = (await Deno.readTextFile(TIERS)).replace(
    "when: prompt.tokens <= 2000\n",
    "when: prompt.tokens <= 1500\n",
  );
  const candidate = await parsePolicy(text, "candidate.yaml");
  const report = await replayDecisions(candidate, records);
  const moved = records.filter((r) =>
    tiersDecision(r.facts).route !== tiersDecision(r.facts, 1500).route
  );
  assert.ok(moved.length > 20, `enough requests in the band, got ${moved.length}`);
  assert.equal(report.changed, moved.length);
  const small = records.filter((r) => tiersDecision(r.facts, 1500).rule === "small-prompt");
  assert.equal(report.rules.find((r) => r.rule === "small-prompt")!.count, small.length);
});

Deno.test("replayFacts(): static route facts come from the policy, health from the log", async () => {
  const cheaper = await parsePolicy(
    (await Deno.readTextFile(TIERS))
      .replace(
        "price: { input: 1, cached_input: 0.1, output: 5 }",
        "price: { input: 0.5, output: 1 }",
      )
      .replace(
        "routes:\n",
        "routes:\n  brand-new: { via: direct, provider: openai, model: x, price: { input: 1, output: 1 }, context_tokens: 1000 }\n",
      ),
    "cheaper.yaml",
  );
  const logged = structuredClone(records[0].facts);
  logged.routes["claude-haiku"].health = { ...emptyHealth(), circuit: "open", p50_ms: 700 };
  logged.routes["retired"] = { ...logged.routes["claude-haiku"] };
  const facts = replayFacts(logged, cheaper);
  assert.equal(facts.routes["claude-haiku"].price.input, 0.5, "the new price is what $cost sees");
  assert.equal(
    estimateCost(facts, facts.routes["claude-haiku"]),
    (facts.prompt.tokens * 0.5 + (facts.request.max_tokens ?? 512) * 1) / 1e6,
  );
  assert.equal(facts.routes["claude-haiku"].health.circuit, "open", "logged health is kept");
  assert.deepEqual(facts.routes["brand-new"].health, emptyHealth(), "a new route starts at zero");
  assert.equal(facts.routes["retired"], undefined, "a route the policy lacks is dropped");
  assert.equal(logged.routes["claude-haiku"].price.input, 1, "the logged facts are not mutated");
});

Deno.test("replay: the markdown report lists rules, routes and the rules that never fire", async () => {
  const report = await replayDecisions(policy, records.slice(0, 50));
  const md = renderReplay(report, "markdown");
  assert.match(md, /^\| rule \| line \| requests \| share \| errors \|$/m);
  assert.match(md, /^\| route \| via \| requests \| share \|$/m);
  assert.match(md, /\*\*Never fired:\*\* .*`tools`/);
  assert.deepEqual(JSON.parse(renderReplay(report, "json")), JSON.parse(JSON.stringify(report)));
});
