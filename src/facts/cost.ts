/**
 * Cost estimates for one request on one route, before it is sent: what `$cost(route)` returns and
 * what a per-request cap (`x-switchyard-max-cost-usd`) is checked against.
 */
import type { Facts, RouteFacts } from "./facts.ts";

/**
 * Output tokens assumed when a request sets no `max_tokens`. A typical chat answer is a few
 * hundred tokens; routing wants a typical figure, not the model's worst case.
 */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 512;

/** Estimated USD for this prompt on this route: prompt tokens plus expected output, at its prices. */
export function estimateCost(facts: Facts, route: RouteFacts): number {
  const output = facts.request.max_tokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS;
  return (facts.prompt.tokens * route.price.input + output * route.price.output) / 1_000_000;
}

/** True when the prompt plus the requested output fits the route's context window. */
export function fitsContext(facts: Facts, route: RouteFacts): boolean {
  return facts.prompt.tokens + (facts.request.max_tokens ?? 0) <= route.context_tokens;
}
