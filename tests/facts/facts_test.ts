import assert from "node:assert/strict";
import { buildFacts, emptyHealth, parseTags, type RouteFacts } from "../../src/facts/facts.ts";
import { FACT_SHAPE, type FactShape } from "../../src/facts/shape.ts";
import { estimateCost, fitsContext } from "../../src/facts/cost.ts";
import type { ChatRequest } from "../../src/upstream/types.ts";

const ROUTE: RouteFacts = {
  via: "direct",
  provider: "openai",
  model: "gpt-4o-mini",
  price: { input: 0.15, cached_input: 0.075, output: 0.6 },
  context_tokens: 1000,
  labels: {},
  available: true,
  health: emptyHealth(),
};

const request: ChatRequest = {
  model: "auto",
  stream: true,
  max_tokens: 200,
  temperature: 0.3,
  user: "user-42",
  response_format: { type: "json_object" },
  tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
  metadata: { tags: ["Billing", "eu"] },
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "First question" },
    { role: "assistant", content: "First answer" },
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
      ],
    },
  ],
};

Deno.test("buildFacts() describes the request, the prompt and the caller", () => {
  const facts = buildFacts(request, {
    headers: new Headers({ "x-switchyard-tags": "code, EU", "x-switchyard-max-cost-usd": "0.05" }),
    caller: {
      key: { id: "k1", name: "app" },
      team: { id: "t1", name: "core" },
      tags: ["internal"],
    },
    routes: { mini: ROUTE },
    now: new Date("2026-11-28T23:15:00Z"),
  });
  assert.deepEqual(facts.request, {
    model: "auto",
    stream: true,
    max_tokens: 200,
    temperature: 0.3,
    user: "user-42",
    has_tools: true,
    tool_count: 1,
    response_format: "json_object",
    message_count: 4,
  });
  assert.equal(facts.prompt.system_chars, "You are terse.".length);
  assert.equal(facts.prompt.last_user_chars, "What is in this picture?".length);
  assert.equal(
    facts.prompt.chars,
    "You are terse.First questionFirst answerWhat is in this picture?".length,
  );
  assert.equal(facts.prompt.has_images, true);
  assert.equal(facts.prompt.image_count, 1);
  assert.ok(facts.prompt.tokens > 85, "an image counts as prompt tokens");
  assert.deepEqual(facts.tags, ["code", "eu", "billing", "internal"]);
  assert.equal(facts.budget.max_cost_usd, 0.05);
  assert.deepEqual(facts.key, { id: "k1", name: "app" });
  assert.deepEqual(facts.team, { id: "t1", name: "core" });
  assert.deepEqual(facts.time, { hour: 23, weekday: "sat", date: "2026-11-28" });
  assert.equal(facts.routes.mini, ROUTE);
});

Deno.test("buildFacts() leaves optional facts absent, and budget zero, when nothing applies", () => {
  const facts = buildFacts({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, {
    routes: {},
  });
  assert.equal(facts.request.max_tokens, undefined);
  assert.equal(facts.request.stream, false);
  assert.equal(facts.key, undefined);
  assert.deepEqual(facts.budget, { spent_usd: 0, spent_ratio: 0, window: "none" });
  assert.deepEqual(facts.tags, []);
});

Deno.test("parseTags() trims, lower-cases, deduplicates and caps the number of tags", () => {
  assert.deepEqual(parseTags(" A, b ,a", ["B", 3, "c"]), ["a", "b", "c"]);
  assert.equal(parseTags(Array.from({ length: 100 }, (_, i) => `t${i}`)).length, 32);
});

Deno.test("estimateCost() and fitsContext() use the prompt estimate and max_tokens", () => {
  const facts = buildFacts({
    model: "auto",
    max_tokens: 500,
    messages: [{ role: "user", content: "word ".repeat(400) }],
  }, { routes: {} });
  const expected = (facts.prompt.tokens * 0.15 + 500 * 0.6) / 1e6;
  assert.equal(estimateCost(facts, ROUTE), expected);
  assert.equal(fitsContext(facts, ROUTE), facts.prompt.tokens + 500 <= 1000);
  assert.equal(fitsContext(facts, { ...ROUTE, context_tokens: 100 }), false);
});

Deno.test("the fact shape used by the checker matches the facts built for a full request", () => {
  const facts = buildFacts(request, {
    headers: new Headers({ "x-switchyard-max-cost-usd": "1" }),
    caller: { key: { id: "k", name: "n" }, team: { id: "t", name: "n" }, tags: [] },
    budget: { limit_usd: 10, spent_usd: 1, remaining_usd: 9, spent_ratio: 0.1, window: "month" },
    routes: { mini: ROUTE },
  });
  const check = (value: unknown, shape: FactShape, path: string) => {
    if (typeof shape === "string") {
      const type = Array.isArray(value) ? "array" : typeof value;
      assert.equal(type, shape, `${path} is ${type}, the shape says ${shape}`);
      return;
    }
    assert.equal(typeof value, "object", `${path} is an object`);
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const sub: FactShape | undefined = shape[key] ?? shape["*"];
      assert.ok(sub !== undefined, `${path}.${key} is missing from the fact shape`);
      check(v, sub, `${path}.${key}`);
    }
  };
  check(facts, FACT_SHAPE, "facts");
});
