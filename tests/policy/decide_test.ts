import assert from "node:assert/strict";
import { buildFacts, type Facts } from "../../src/facts/facts.ts";
import { decide } from "../../src/policy/decide.ts";
import { parsePolicy } from "../../src/policy/load.ts";
import type { Policy } from "../../src/policy/types.ts";

const ROUTES = `
routes:
  a: { via: direct, provider: openai, model: a, price: { input: 1, output: 2 }, context_tokens: 1000 }
  b: { via: gateway, provider: openrouter, model: x/b, price: { input: 5, output: 10 }, context_tokens: 100000, fallbacks: [c] }
  c: { via: direct, provider: mistral, model: c, price: { input: 0.1, output: 0.2 }, context_tokens: 8000 }
`;

async function policyWith(rules: string, options: { jsonataOnly?: boolean } = {}) {
  return await parsePolicy(
    `name: t\nversion: 1\n${ROUTES}\nrules:\n${rules}\ndefault: { route: c, fallbacks: [a] }\n`,
    "t.yaml",
    options,
  );
}

function factsFor(policy: Policy, content = "hello", extra: Partial<Facts["request"]> = {}) {
  const facts = buildFacts({ model: "auto", messages: [{ role: "user", content }] }, {
    routes: policy.routeFacts,
  });
  Object.assign(facts.request, extra);
  return facts;
}

Deno.test("decide(): the first matching rule wins and every rule before it is in the trace", async () => {
  const policy = await policyWith(`
  - { name: never, when: "prompt.tokens > 1000000", route: b }
  - { name: first, when: "prompt.tokens > 0", route: a, fallbacks: [b], reason: small }
  - { name: second, when: "true", route: b }
`);
  const d = await decide(policy, factsFor(policy));
  assert.equal(d.rule, "first");
  assert.equal(d.route, "a");
  assert.equal(d.via, "direct");
  assert.equal(d.reason, "small");
  assert.deepEqual(d.fallbacks, ["b", "c"], "route-level fallbacks follow the rule's own");
  assert.deepEqual(d.trace.map((t) => [t.rule, t.result]), [["never", "no_match"], [
    "first",
    "match",
  ]]);
  assert.deepEqual(d.policy, { name: "t", version: "1", hash: policy.hash });
});

Deno.test("decide(): no match takes the default route and its fallbacks", async () => {
  const policy = await policyWith(`  - { name: big, when: "prompt.tokens > 5000", route: b }`);
  const d = await decide(policy, factsFor(policy));
  assert.equal(d.rule, null);
  assert.equal(d.route, "c");
  assert.deepEqual(d.fallbacks, ["a"]);
});

Deno.test("decide(): a rule that errors is not a match, is explained, and does not fail", async () => {
  const policy = await policyWith(`
  - { name: type-error, when: 'prompt.tokens > "ten"', route: b }
  - { name: not-boolean, when: '$count(tags) = 0 ? "yes" : false', route: b }
  - { name: fallback, when: "true", route: a }
`);
  const d = await decide(policy, factsFor(policy));
  assert.equal(d.route, "a");
  assert.equal(d.trace[0].result, "error");
  assert.match(d.trace[0].error!, /T2009|T2010|must be/);
  assert.equal(d.trace[1].result, "error");
  assert.match(d.trace[1].error!, /yielded a string, not a boolean/);
});

Deno.test("decide(): runaway expressions are stopped by jsonata's guardrails", async () => {
  const policy = await parsePolicy(
    `name: t\nversion: 1\n${ROUTES}
evaluation: { timeout_ms: 50, max_depth: 100, max_sequence: 5000 }
rules:
  - name: recursion
    when: '($f := function($n) { 1 + $f($n + 1) }; $f(0)) > 0'
    route: b
  - name: big-sequence
    when: '$count([1..100000]) > 0'
    route: b
  - name: slow
    when: '$count([1..4000].($x := $; [1..4000].($ * $x))) > 0'
    route: b
  - { name: safe, when: "true", route: a }
default: { route: c }
`,
    "t.yaml",
  );
  const started = performance.now();
  const d = await decide(policy, factsFor(policy));
  const elapsed = performance.now() - started;
  assert.equal(d.route, "a");
  const errors = Object.fromEntries(d.trace.map((t) => [t.rule, t.error ?? ""]));
  assert.match(errors.recursion, /D1011/);
  assert.match(errors["big-sequence"], /D2015/);
  assert.match(errors.slow, /D1012|D2015/);
  assert.ok(elapsed < 2000, `guardrails stopped evaluation (took ${elapsed} ms)`);
});

Deno.test("decide(): $cost and $fits see this request's prompt and the route's prices", async () => {
  const policy = await policyWith(`
  - { name: fits-a, when: '$fits("a") and $cost("a") < 0.01', route: a }
  - { name: else-b, when: 'true', route: b }
`);
  assert.equal((await decide(policy, factsFor(policy, "short"))).rule, "fits-a");
  assert.equal((await decide(policy, factsFor(policy, "word ".repeat(2000)))).rule, "else-b");
});

Deno.test("decide(): a split is sticky per key and follows its weights", async () => {
  const policy = await policyWith(`
  - name: canary
    when: "true"
    split: [{ route: a, weight: 80 }, { route: b, weight: 20 }]
`);
  const facts = factsFor(policy);
  const first = await decide(policy, facts, { stickyKey: "user-1" });
  for (let i = 0; i < 5; i++) {
    assert.equal((await decide(policy, facts, { stickyKey: "user-1" })).route, first.route);
  }
  let b = 0;
  for (let i = 0; i < 2000; i++) {
    if ((await decide(policy, facts, { stickyKey: `user-${i}` })).route === "b") b++;
  }
  assert.ok(b > 300 && b < 500, `20% arm got ${b} of 2000`);
  assert.ok(first.split && first.split.bucket >= 0 && first.split.bucket < 100);
});

Deno.test("decide(): compiled closures and jsonata decide the shipped policy alike", async () => {
  for (const file of ["default", "latency-first", "compliance-first"]) {
    const text = Deno.readTextFileSync(`policies/${file}.yaml`);
    const fast = await parsePolicy(text, file);
    const slow = await parsePolicy(text, file, { jsonataOnly: true });
    assert.ok(fast.rules.every((r) => r.when.fast), `${file}: every rule compiles`);
    for (
      const [content, tags, stream] of [["hi", [], false], ["x ".repeat(3000), ["code"], true], [
        "y ".repeat(200000),
        ["eu"],
        false,
      ]] as const
    ) {
      const f = factsFor(fast, content, { stream });
      f.tags = [...tags];
      const a = await decide(fast, f);
      const b = await decide(slow, f);
      assert.deepEqual(a.trace.map((t) => t.result), b.trace.map((t) => t.result));
      assert.equal(a.route, b.route);
    }
  }
});

Deno.test("decide(): fallback chains are cached per policy, never across policies sharing a rule", async () => {
  const first = await policyWith(`  - { name: to-b, when: "true", route: b }`);
  assert.deepEqual((await decide(first, factsFor(first))).fallbacks, ["c"]);
  // A reloaded policy that reuses the rule objects but where route b now falls back to a.
  const b = { ...first.routes.b, fallbacks: ["a"] };
  const second: Policy = { ...first, routes: { ...first.routes, b } };
  const d = await decide(second, factsFor(second));
  assert.deepEqual(d.fallbacks, ["a"]);
  assert.throws(() => (d.fallbacks as string[]).push("x"), TypeError, "chains are shared: frozen");
  // And the first policy's own answer is unchanged.
  assert.deepEqual((await decide(first, factsFor(first))).fallbacks, ["c"]);
});
