/**
 * What a request cost, in exact integer nano-dollars (1 nano-USD = 1e-9 USD).
 *
 * Why integers: a ledger that adds floating-point dollars drifts (0.1 + 0.2 ≠ 0.3), and 500
 * concurrent requests must add up to exactly the sum of their costs. Why nano and not micro: a
 * short request on a cheap model costs a few micro-dollars, so rounding each request to a whole
 * micro-dollar would be a percent-level error; to the nano-dollar it is below a millionth. Prices
 * are taken to six decimals of USD per million tokens (1e-12 USD per token), each component is
 * multiplied exactly (BigInt), and the request's total is rounded once, half up, to a nano-dollar.
 * A counter stays exact up to 2^53 nano-USD, about 9 million USD per scope and window.
 */
import { DEFAULT_EXPECTED_OUTPUT_TOKENS } from "../facts/cost.ts";
import type { Route } from "../policy/types.ts";
import type { NormalizedUsage } from "../upstream/types.ts";

/** USD per million tokens, as a compiled route has them. */
export type TokenPrice = Route["price"];

/** Nano-dollars in one US dollar. */
export const NANO_PER_USD = 1_000_000_000;

/** A cost, in USD (for people and facts) and exact integer nano-USD (for the ledger). */
export interface Cost {
  usd: number;
  nanoUsd: number;
  /** `reported`: the gateway's own figure (OpenRouter `usage.cost`); `computed`: usage × price. */
  source: "computed" | "reported";
}

/** Whole nano-dollars for an amount in USD, rounded half up. */
export function usdToNano(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`Not a cost in USD: ${usd}`);
  return Math.round(usd * NANO_PER_USD);
}

/** USD for an amount in nano-dollars. */
export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD;
}

/** A price in millionths of a USD per million tokens, i.e. pico-USD per token. */
function picoPerToken(usdPerMillion: number): bigint {
  return BigInt(Math.round(usdPerMillion * 1_000_000));
}

function tokens(n: number): bigint {
  return BigInt(Math.max(0, Math.trunc(Number.isFinite(n) ? n : 0)));
}

/** Pico-USD to nano-USD, rounded half up (amounts are never negative). */
function picoToNano(pico: bigint): number {
  return Number((pico + 500n) / 1000n);
}

/**
 * The cost of a completed request. The gateway's reported cost wins when it gives one (it knows
 * its own markup and the provider it picked); otherwise uncached input × `input` + cached input ×
 * `cached_input` + cache writes × `cache_write` + output × `output`.
 *
 * @example
 * costOf({ input_tokens: 1000, cached_input_tokens: 600, cache_write_tokens: 0,
 *   output_tokens: 100, reasoning_tokens: 0 }, { input: 0.15, cached_input: 0.075,
 *   cache_write: 0.15, output: 0.6 }); // { usd: 0.000165, nanoUsd: 165000, source: "computed" }
 */
export function costOf(usage: NormalizedUsage, price: TokenPrice): Cost {
  const reported = usage.reported_cost_usd;
  if (typeof reported === "number" && Number.isFinite(reported) && reported >= 0) {
    const nanoUsd = usdToNano(reported);
    return { usd: nanoToUsd(nanoUsd), nanoUsd, source: "reported" };
  }
  const input = tokens(usage.input_tokens);
  const cached = tokens(usage.cached_input_tokens);
  const writes = tokens(usage.cache_write_tokens);
  // input_tokens includes the cached and cache-write tokens, which have their own prices.
  const uncached = input > cached + writes ? input - cached - writes : 0n;
  const pico = uncached * picoPerToken(price.input) +
    cached * picoPerToken(price.cached_input) +
    writes * picoPerToken(price.cache_write) +
    tokens(usage.output_tokens) * picoPerToken(price.output);
  const nanoUsd = picoToNano(pico);
  return { usd: nanoToUsd(nanoUsd), nanoUsd, source: "computed" };
}

/** What a request is expected to cost before it is sent, to reserve against budgets. */
export interface RequestEstimate {
  /** Estimated prompt tokens (`facts.prompt.tokens`). */
  promptTokens: number;
  /** The request's `max_tokens`; when unset, `DEFAULT_EXPECTED_OUTPUT_TOKENS` (512), as `$cost`. */
  maxTokens?: number;
}

/**
 * The reservation for a request: every prompt token at the full input price (no cache discount,
 * which is only known afterwards) plus the expected output. Uses the same output assumption as
 * `$cost(route)`, so a policy's estimate and the reservation agree.
 */
export function estimateRequestCost(
  estimate: RequestEstimate,
  price: TokenPrice,
): { usd: number; nanoUsd: number } {
  const output = estimate.maxTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS;
  const pico = tokens(estimate.promptTokens) * picoPerToken(price.input) +
    tokens(output) * picoPerToken(price.output);
  const nanoUsd = picoToNano(pico);
  return { usd: nanoToUsd(nanoUsd), nanoUsd };
}
