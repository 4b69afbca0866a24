/**
 * The routing of tests/fixtures/review/tiers.yaml written out by hand, as an oracle: replay and
 * diff counts are checked against it rather than against the engine that produced them.
 */
import type { Facts } from "../../src/facts/facts.ts";
import type { DecisionRecord } from "../../src/log/record.ts";

export const TIERS = "tests/fixtures/review/tiers.yaml";

/** Rule and route tiers.yaml gives these facts; `small` is rule `small-prompt`'s threshold. */
export function tiersDecision(facts: Facts, small = 2000): { rule: string | null; route: string } {
  const tokens = facts.prompt.tokens;
  if (facts.tags.includes("eu")) return { rule: "eu-compliance", route: "mistral-medium" };
  if (facts.budget.spent_ratio >= 0.9) {
    return { rule: "budget-nearly-spent", route: "mistral-small" };
  }
  if (facts.request.has_tools) return { rule: "tools", route: "gpt-4o" };
  if (tokens > 100000 || tokens + (facts.request.max_tokens ?? 0) > 128000) {
    return { rule: "long-context", route: "gemini-flash" };
  }
  if (facts.request.model.includes("/")) return { rule: "breadth", route: "or-breadth" };
  if (facts.tags.includes("code")) return { rule: "code", route: "claude-sonnet" };
  if (tokens <= 2000 && facts.routes["gpt-mini"].health.circuit === "open") {
    return { rule: "small-prompt-direct-degraded", route: "or-gpt-mini" };
  }
  if (tokens <= small) return { rule: "small-prompt", route: "gpt-mini" };
  if (tokens <= 32000) return { rule: "medium-prompt", route: "claude-haiku" };
  return { rule: null, route: "gemini-flash" };
}

/** Prices of tiers.yaml (USD per million tokens), for cost oracles. */
export const TIERS_PRICES: Record<string, { input: number; cached_input: number; output: number }> =
  {
    "gpt-mini": { input: 0.15, cached_input: 0.075, output: 0.6 },
    "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 },
    "claude-haiku": { input: 1, cached_input: 0.1, output: 5 },
    "claude-sonnet": { input: 3, cached_input: 0.3, output: 15 },
    "gemini-flash": { input: 0.3, cached_input: 0.075, output: 2.5 },
    "mistral-small": { input: 0.1, cached_input: 0.1, output: 0.3 },
    "mistral-medium": { input: 0.4, cached_input: 0.4, output: 2 },
    "or-gpt-mini": { input: 0.15, cached_input: 0.075, output: 0.6 },
    "or-breadth": { input: 0.3, cached_input: 0.075, output: 2.5 },
  };

/**
 * USD a logged request costs on a route of tiers.yaml, from first principles: logged usage when
 * there is some (cached tokens at the cached price only on the route that served them), else the
 * prompt estimate and max_tokens or 512.
 */
export function tiersCost(r: DecisionRecord, route: string): number {
  const p = TIERS_PRICES[route];
  const input = r.usage?.input_tokens ?? r.facts.prompt.tokens;
  const cached = r.served_by === route ? r.usage?.cached_input_tokens ?? 0 : 0;
  const output = r.usage?.output_tokens ?? r.facts.request.max_tokens ?? 512;
  return ((input - cached) * p.input + cached * p.cached_input + output * p.output) / 1e6;
}
