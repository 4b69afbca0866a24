/**
 * `deno task bench`: the decision for the shipped default policy and for a generated 50-rule
 * policy, with expressions compiled to closures (as served) and through jsonata alone (the
 * reference), so the cost of each is visible side by side.
 */
import { buildFacts } from "../facts/facts.ts";
import { decide } from "./decide.ts";
import { loadPolicy, parsePolicy } from "./load.ts";

const defaultPolicy = await loadPolicy("policies/default.yaml");
const defaultPolicyJsonata = await loadPolicy("policies/default.yaml", { jsonataOnly: true });

/** A policy with 50 rules, none of which match a small untagged request, and a default. */
function generatedPolicy(rules: number): string {
  const lines = [
    "name: generated",
    "version: 1",
    "routes:",
    "  a: { via: direct, provider: openai, model: a, price: { input: 1, output: 2 }, context_tokens: 128000 }",
    "  b: { via: gateway, provider: openrouter, model: x/b, price: { input: 2, output: 4 }, context_tokens: 128000 }",
    "rules:",
  ];
  const shapes = [
    (i: number) => `prompt.tokens > ${10_000 + i} and request.stream`,
    (i: number) => `"tag-${i}" in tags`,
    (i: number) => `budget.spent_ratio > 0.${i % 10}5 and $count(tags) > 2`,
    (i: number) => `request.model = "model-${i}" or team.name = "team-${i}"`,
    (i: number) =>
      `routes.a.health.error_rate > 0.5 and time.hour = ${i % 24} and prompt.has_images`,
  ];
  for (let i = 0; i < rules; i++) {
    lines.push(
      `  - { name: r${i}, when: '${shapes[i % shapes.length](i)}', route: ${i % 2 ? "a" : "b"} }`,
    );
  }
  lines.push("default: { route: a, fallbacks: [b] }");
  return lines.join("\n");
}
const fifty = await parsePolicy(generatedPolicy(50), "generated.yaml");
const fiftyJsonata = await parsePolicy(generatedPolicy(50), "generated.yaml", {
  jsonataOnly: true,
});

const request = {
  model: "auto",
  messages: [
    { role: "system" as const, content: "You are a helpful assistant. Answer briefly." },
    {
      role: "user" as const,
      content: "What is the capital of France? Please explain the history.",
    },
  ],
};
const headers = new Headers({ "x-switchyard-tags": "support" });
const facts = buildFacts(request, { headers, routes: defaultPolicy.routeFacts });
const fiftyFacts = buildFacts(request, { headers, routes: fifty.routeFacts });

Deno.bench("facts: a typical two-message request", { group: "facts" }, () => {
  buildFacts(request, { headers, routes: defaultPolicy.routeFacts });
});

Deno.bench("decide: default policy (compiled)", { group: "default", baseline: true }, async () => {
  await decide(defaultPolicy, facts);
});
Deno.bench("decide: default policy (jsonata only)", { group: "default" }, async () => {
  await decide(defaultPolicyJsonata, facts);
});
Deno.bench("decide: 50-rule policy (compiled)", { group: "fifty", baseline: true }, async () => {
  await decide(fifty, fiftyFacts);
});
Deno.bench("decide: 50-rule policy (jsonata only)", { group: "fifty" }, async () => {
  await decide(fiftyJsonata, fiftyFacts);
});
