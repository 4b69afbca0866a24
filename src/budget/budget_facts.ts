/**
 * Which budgets apply to a caller, and what the policy sees of them: `budget` (the tightest) and
 * `budgets.key`, `budgets.team`, `budgets.tags.<tag>`. Pure: budgets and counter levels in, facts
 * out.
 *
 * "Spent" counts settled spend plus what in-flight requests hold, everywhere (facts, 429s and
 * the atomic check), so the three always agree. The tightest budget is the one with the least
 * remaining USD; ties go to the higher spent ratio, then hard before soft, then file order.
 */
import type { BudgetFacts, CallerFacts, Facts } from "../facts/facts.ts";
import { nanoToUsd } from "./cost.ts";
import type { CounterCheck, Level } from "./store.ts";
import { type Budget, EACH } from "./types.ts";

/** A budget that applies to a request, and the counter its spend is on. */
export interface Applicable {
  budget: Budget;
  /** The counter's id: the caller's key or team id (also for `*` budgets), or the tag. */
  counterId: string;
  /** Index of its counter in `checks`. */
  check: number;
}

/** The budgets that apply to a caller and tags, and the counters to check (one per counter). */
export function applicableBudgets(
  budgets: readonly Budget[],
  caller: CallerFacts,
  tags: readonly string[],
): { applicable: Applicable[]; checks: CounterCheck[] } {
  // Allocates only for budgets that apply: most requests (no key, no budgeted tag) match none,
  // and this runs twice per request. Tag lists are a handful of entries: `includes` beats a Set.
  let index: Map<string, number> | undefined;
  const checks: CounterCheck[] = [];
  const applicable: Applicable[] = [];
  for (const budget of budgets) {
    const { dimension, id } = budget.scope;
    const own = dimension === "key"
      ? caller.key?.id
      : dimension === "team"
      ? caller.team?.id
      : caller.tags.includes(id) || tags.includes(id)
      ? id
      : undefined;
    if (own === undefined || (id !== EACH && id !== own)) continue;
    const counter = `${budget.window}\u0000${dimension}\u0000${own}`;
    index ??= new Map();
    let check = index.get(counter);
    if (check === undefined) {
      check = checks.push({ dimension, id: own, window: budget.window }) - 1;
      index.set(counter, check);
    }
    if (budget.mode === "hard") {
      // Several hard budgets on one counter: the lowest limit is the one that bites.
      checks[check].limitNano = Math.min(checks[check].limitNano ?? Infinity, budget.limitNano);
    }
    applicable.push({ budget, counterId: own, check });
  }
  return { applicable, checks };
}

/** What the policy sees of one budget at a counter level. */
export function budgetFacts(budget: Budget, level: Level): BudgetFacts {
  const spent = level.settledNano + level.heldNano;
  return {
    limit_usd: budget.limitUsd,
    spent_usd: nanoToUsd(spent),
    remaining_usd: nanoToUsd(Math.max(0, budget.limitNano - spent)),
    spent_ratio: budget.limitNano > 0 ? spent / budget.limitNano : 1,
    window: budget.window,
    name: budget.name,
  };
}

/** The facts when no budget applies. */
export const NO_BUDGET: BudgetFacts = { spent_usd: 0, spent_ratio: 0, window: "none" };

/** `budget` and `budgets` facts from the applicable budgets and their counters' levels. */
export function budgetFactSet(
  applicable: readonly Applicable[],
  levels: readonly Level[],
): Pick<Facts, "budget" | "budgets"> {
  if (applicable.length === 0) return { budget: NO_BUDGET, budgets: { tags: {} } };
  const all = applicable.map((a, order) => ({
    facts: budgetFacts(a.budget, levels[a.check]),
    hard: a.budget.mode === "hard",
    order,
    a,
  }));
  type Entry = (typeof all)[number];
  /** Negative when `x` is tighter than `y`. */
  const compare = (x: Entry, y: Entry) =>
    (x.facts.remaining_usd ?? 0) - (y.facts.remaining_usd ?? 0) ||
    y.facts.spent_ratio - x.facts.spent_ratio ||
    Number(y.hard) - Number(x.hard) ||
    x.order - y.order;
  const tightest = (entries: Entry[]): BudgetFacts | undefined =>
    entries.reduce<Entry | undefined>(
      (best, e) => !best || compare(e, best) < 0 ? e : best,
      undefined,
    )
      ?.facts;
  const byDimension = (d: string) => all.filter((e) => e.a.budget.scope.dimension === d);
  const tags: Record<string, BudgetFacts> = {};
  for (const tag of new Set(byDimension("tag").map((e) => e.a.counterId))) {
    tags[tag] = tightest(byDimension("tag").filter((e) => e.a.counterId === tag))!;
  }
  const key = tightest(byDimension("key"));
  const team = tightest(byDimension("team"));
  return {
    budget: tightest(all) ?? NO_BUDGET,
    budgets: { ...(key ? { key } : {}), ...(team ? { team } : {}), tags },
  };
}
