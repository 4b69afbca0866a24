/**
 * The compiled expression subset against jsonata, its reference: thousands of generated
 * expressions over varied facts must give identical results through both — the same value, or an
 * error in both (an error is a non-match either way).
 */
import assert from "node:assert/strict";
import { buildFacts, emptyHealth, type Facts } from "../../src/facts/facts.ts";
import { bindings } from "../../src/policy/decide.ts";
import { parseExpression } from "../../src/policy/condition.ts";
import { compileFast } from "../../src/policy/fast.ts";
import { random } from "../../src/seeded.ts";

const LIMITS = { timeout_ms: 50, max_depth: 100, max_sequence: 10_000 };

const ROUTE = (context: number, input: number, errorRate: number) => ({
  via: "direct" as const,
  provider: "openai",
  model: "m",
  price: { input, cached_input: input / 2, output: input * 4 },
  context_tokens: context,
  labels: { region: "eu" },
  available: true,
  health: { ...emptyHealth(), error_rate: errorRate },
});

/** Facts that differ in the ways expressions can trip over: missing, empty, one, many. */
function factSets(): Facts[] {
  const sets: Facts[] = [];
  const variants = [
    { tags: [] as string[], content: "hi", extra: {} },
    { tags: ["eu"], content: "word ".repeat(300), extra: { max_tokens: 100, temperature: 0.5 } },
    { tags: ["eu", "code", "batch"], content: "x", extra: { stream: true, user: "u-1" } },
    { tags: ["Code"], content: "", extra: { max_tokens: 1 } },
  ];
  for (const [i, v] of variants.entries()) {
    const facts = buildFacts(
      {
        model: i % 2 ? "gpt-4o-mini" : "auto",
        messages: [{ role: "user", content: v.content || "." }],
        ...v.extra,
      },
      {
        headers: new Headers({ "x-switchyard-tags": v.tags.join(",") }),
        caller: i === 2 ? { key: { id: "k1", name: "App" }, tags: [] } : undefined,
        budget: i === 1
          ? { limit_usd: 10, spent_usd: 9, remaining_usd: 1, spent_ratio: 0.9, window: "month" }
          : undefined,
        routes: { a: ROUTE(128000, 0.15, i * 0.2), b: ROUTE(1000, 3, 0) },
      },
    );
    sets.push(facts);
  }
  return sets;
}

/** A small grammar over the compiled subset, with deliberate type mismatches. */
function generator(seed: number) {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const NUM_PATHS = [
    "prompt.tokens",
    "prompt.chars",
    "request.max_tokens",
    "request.temperature",
    "budget.spent_ratio",
    "budget.remaining_usd",
    "routes.a.health.error_rate",
    "routes.b.context_tokens",
    "time.hour",
    "request.message_count",
  ];
  const STR_PATHS = [
    "request.model",
    "key.id",
    "request.user",
    "routes.a.labels.region",
    "time.weekday",
  ];
  const BOOL_PATHS = [
    "request.stream",
    "request.has_tools",
    "prompt.has_images",
    "routes.a.available",
  ];
  const literal = () =>
    pick([
      () => String(Math.floor(rand() * 2000)),
      () => (rand() * 2).toFixed(2),
      () => JSON.stringify(pick(["eu", "code", "auto", "gpt-4o-mini", "", "k1", "mon"])),
      () => pick(["true", "false", "null"]),
    ])();
  const num = (depth: number): string => {
    if (depth > 2 || rand() < 0.4) return rand() < 0.7 ? pick(NUM_PATHS) : literal();
    return pick([
      () => `${num(depth + 1)} ${pick(["+", "-", "*", "/", "%"])} ${num(depth + 1)}`,
      () => `-${pick(NUM_PATHS)}`,
      () => `$count(tags)`,
      () => `$cost(${pick(['"a"', '"b"'])})`,
      () => `(${num(depth + 1)})`,
    ])();
  };
  const str = (): string =>
    pick([
      () => pick(STR_PATHS),
      () => `$lowercase(${pick(STR_PATHS)})`,
      () => `$uppercase(${pick(STR_PATHS)})`,
      literal,
    ])();
  const bool = (depth: number): string => {
    if (depth > 3 || rand() < 0.3) {
      return pick([
        () => pick(BOOL_PATHS),
        () => `${num(depth + 1)} ${pick(["<", "<=", ">", ">=", "=", "!="])} ${num(depth + 1)}`,
        () => `${str()} ${pick(["=", "!="])} ${str()}`,
        () => `${str()} ${pick(["<", ">"])} ${num(depth + 1)}`, // a type mismatch
        () => `${literal()} in tags`,
        () => `${str()} in [${[literal(), literal()].join(", ")}]`,
        () => `$contains(${str()}, ${pick(['"e"', '"o"', '""'])})`,
        () => `$exists(${pick([...NUM_PATHS, ...STR_PATHS, "tags"])})`,
        () => `$fits(${pick(['"a"', '"b"'])})`,
        () => `$isRoute(request.model)`,
      ])();
    }
    return pick([
      () => `${bool(depth + 1)} and ${bool(depth + 1)}`,
      () => `${bool(depth + 1)} or ${bool(depth + 1)}`,
      () => `$not(${bool(depth + 1)})`,
      () => `$boolean(${pick([...NUM_PATHS, ...STR_PATHS])})`,
      () => `(${bool(depth + 1)})`,
      () => `${bool(depth + 1)} ? ${bool(depth + 1)} : ${bool(depth + 1)}`,
      () => `${num(depth + 1)} ? ${bool(depth + 1)} : ${bool(depth + 1)}`,
    ])();
  };
  return () => bool(0);
}

type Outcome = { value: unknown } | { error: true };

async function run(fn: () => unknown): Promise<Outcome> {
  try {
    let value = fn();
    if (value instanceof Promise) value = await value;
    return { value };
  } catch {
    return { error: true };
  }
}

Deno.test("fast expressions: thousands of generated expressions give jsonata's results", async () => {
  const facts = factSets();
  const next = generator(20261125);
  let compared = 0;
  let compiled = 0;
  const seen = new Set<string>();
  for (let i = 0; i < 4000; i++) {
    const source = next();
    if (seen.has(source)) continue;
    seen.add(source);
    let expression;
    try {
      expression = parseExpression(source, LIMITS);
    } catch {
      continue; // not an expression jsonata accepts; nothing to compare
    }
    const fast = compileFast(expression.ast(), source, expression);
    if (!fast) continue;
    compiled++;
    for (const f of facts) {
      const bound = bindings(f);
      const reference = await run(() => expression.evaluate(f, bound));
      const candidate = await run(() => fast.evaluate(f, bound));
      assert.deepEqual(candidate, reference, `${source} over ${JSON.stringify(f.tags)}`);
      compared++;
    }
  }
  assert.ok(compiled >= 2000, `only ${compiled} generated expressions compiled`);
  assert.ok(compared >= 8000);
});
