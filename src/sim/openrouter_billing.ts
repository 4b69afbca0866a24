/**
 * What the simulated gateway charges: the provider's prices applied to the normalized usage,
 * reported as OpenRouter does in `usage.cost`.
 */
import type { NormalizedUsage } from "../upstream/types.ts";
import type { Candidate } from "./openrouter_routing.ts";

/** USD for the usage at the provider's prices; cached input at a quarter of the prompt price. */
export function cost(candidate: Candidate, usage: NormalizedUsage | undefined): number {
  if (!usage) return 0;
  const { prompt, completion } = candidate.provider.pricing ?? { prompt: 1, completion: 2 };
  const fresh = usage.input_tokens - usage.cached_input_tokens;
  const usd = (fresh * prompt + usage.cached_input_tokens * prompt * 0.25 +
    usage.output_tokens * completion) / 1e6;
  return Math.round(usd * 1e10) / 1e10;
}

/** OpenRouter's `usage` object, cost included. */
export function wireUsage(
  usage: NormalizedUsage | undefined,
  usd: number,
): Record<string, unknown> {
  const input = usage?.input_tokens ?? 0;
  const output = usage?.output_tokens ?? 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    cost: usd,
    is_byok: false,
    prompt_tokens_details: { cached_tokens: usage?.cached_input_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage?.reasoning_tokens ?? 0 },
    cost_details: { upstream_inference_cost: null },
  };
}
