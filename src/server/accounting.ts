/**
 * Money on the request path: budget facts before the decision, admission (a hard budget that is
 * spent answers 429; the estimate is reserved atomically so concurrent requests cannot overspend),
 * and settlement of the actual cost before the response completes — so a crash after the client
 * saw the end of an answer never forgets its spend.
 */
import type { Ledger } from "../budget/ledger.ts";
import type { Reservation } from "../budget/store.ts";
import { estimateRequestCost } from "../budget/cost.ts";
import { estimateCost } from "../facts/cost.ts";
import type { CallerFacts, Facts } from "../facts/facts.ts";
import type { Decision } from "../policy/decide.ts";
import type { Policy } from "../policy/types.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import { ApiError } from "./errors.ts";

/** The spend store could not be reached: fail closed rather than serve unaccounted. */
function ledgerDown(error: unknown): ApiError {
  return new ApiError(503, "The spend ledger is unavailable; try again shortly", {
    code: "ledger_unavailable",
    headers: { "retry-after": "1" },
    details: { cause: error instanceof Error ? error.message : String(error) },
  });
}

/** Fills `facts.budget` and `facts.budgets` from the ledger (keeping the caller's cost cap). */
export async function addBudgetFacts(
  ledger: Ledger,
  caller: CallerFacts,
  facts: Facts,
): Promise<void> {
  let levels;
  try {
    levels = await ledger.facts(caller, facts.tags);
  } catch (error) {
    throw ledgerDown(error);
  }
  const cap = facts.budget.max_cost_usd;
  facts.budget = cap === undefined ? levels.budget : { ...levels.budget, max_cost_usd: cap };
  facts.budgets = levels.budgets;
}

/**
 * Reserves this request's estimate on the dearest route that may serve it (the decided route or
 * a fallback: a fallback to a dearer route must not spend past what was reserved); throws a 429
 * when a budget is spent.
 */
export async function admit(
  ledger: Ledger,
  caller: CallerFacts,
  facts: Facts,
  policy: Policy,
  decision: Decision,
): Promise<Reservation> {
  const cap = facts.budget.max_cost_usd;
  let estimateUsd = 0;
  for (const name of [decision.route, ...decision.fallbacks]) {
    const route = policy.routes[name];
    if (!route) continue;
    // A route over the request's cost cap is never tried (execute skips it): it spends nothing.
    if (cap !== undefined && estimateCost(facts, facts.routes[name]) > cap) continue;
    const estimate = estimateRequestCost(
      { promptTokens: facts.prompt.tokens, maxTokens: facts.request.max_tokens },
      route.price,
    );
    estimateUsd = Math.max(estimateUsd, estimate.usd);
  }
  let admission;
  try {
    admission = await ledger.admit(caller, facts.tags, estimateUsd);
  } catch (error) {
    throw ledgerDown(error);
  }
  if (admission.ok) return admission.reservation;
  return Promise.reject(
    new ApiError(429, admission.message, {
      type: "insufficient_quota",
      code: "budget_exceeded",
      headers: { "retry-after": String(admission.retryAfterSeconds) },
      details: {
        budget: admission.budget,
        scope: admission.scope,
        window: admission.window,
        limit_usd: admission.limitUsd,
        spent_usd: admission.spentUsd,
        resets_at: admission.resetsAt,
      },
    }),
  );
}

/**
 * The usage to account: the upstream's, or — for a stream cut before its usage arrived — an
 * estimate of what was sent (about four characters per token), flagged as estimated.
 */
export function usageToAccount(
  usage: NormalizedUsage | undefined,
  facts: Facts,
  sentChars: number,
): { usage: NormalizedUsage; estimated: boolean } {
  if (usage) return { usage, estimated: false };
  return {
    usage: {
      input_tokens: facts.prompt.tokens,
      output_tokens: Math.ceil(sentChars / 4),
      cached_input_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
    },
    estimated: true,
  };
}
