/**
 * The ledger: the one object the server calls for money. Before a request goes upstream,
 * `admit` reserves its estimate against every budget that applies (atomically, in the store) and
 * returns the budget facts, or the spent hard budget that blocks it (for a 429 `budget_exceeded`).
 * After the response, `record` settles the actual cost, attributed to key, team, tags, route and
 * via. The server records before it completes the response, so a spend the client saw is stored.
 *
 * @example
 * const ledger = createLedger({ store, budgets: (await loadBudgets(file)).budgets });
 * const admission = await ledger.admit(caller, facts.tags, estimate.usd);
 * if (!admission.ok) return budgetExceeded(admission); // 429
 * // … call the upstream …
 * await ledger.record(admission.reservation, usage, route.price, { route: route.name, … });
 */
import type { CallerFacts, Facts } from "../facts/facts.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import { applicableBudgets, budgetFactSet } from "./budget_facts.ts";
import { type Cost, costOf, nanoToUsd, type TokenPrice, usdToNano } from "./cost.ts";
import { formatUsd, type SpendSnapshot, spendSnapshot } from "./report.ts";
import { type Attribution, isSpent, type Reservation, type SpendStore } from "./store.ts";
import type { Budget } from "./types.ts";
import { type Clock, systemClock, windowAt } from "./windows.ts";

/** The budget facts of a request: `budget` (the tightest that applies) and `budgets` per scope. */
export type BudgetFactSet = Pick<Facts, "budget" | "budgets">;

/** A hard budget that is spent: what a 429 `budget_exceeded` error tells the client. */
export interface BudgetExceeded {
  ok: false;
  /** The budget's name. */
  budget: string;
  /** `key:<id>`, `team:<id>` or `tag:<name>`. */
  scope: string;
  window: "day" | "month";
  limitUsd: number;
  /** Settled spend plus what in-flight requests hold. */
  spentUsd: number;
  /** The part of `spentUsd` held by requests still in flight. */
  inFlightUsd: number;
  /** When the window ends and the budget resets (ISO 8601, UTC). */
  resetsAt: string;
  /** Seconds until `resetsAt`, for a `Retry-After` header. */
  retryAfterSeconds: number;
  /** A sentence for the error's `message`. */
  message: string;
}

/** The outcome of `admit`. */
export type Admission =
  | { ok: true; reservation: Reservation; facts: BudgetFactSet }
  | BudgetExceeded;

/** What `record` stored. */
export interface RecordedCost extends Cost {
  /** False when this reservation had been recorded before (nothing was added). */
  recorded: boolean;
}

/** What a ledger is built from. */
export interface LedgerOptions {
  store: SpendStore;
  budgets: readonly Budget[];
  /** Where "now" comes from (windows, leases); tests inject one. */
  clock?: Clock;
}

/** The server's interface to budgets and spend. */
export interface Ledger {
  readonly store: SpendStore;
  readonly budgets: readonly Budget[];
  /** Budget facts without reserving anything (for a decision made before `admit`). */
  facts(caller: CallerFacts, tags: readonly string[]): Promise<BudgetFactSet>;
  /** Checks every applicable hard budget and reserves `estimateUsd`, in one atomic step. */
  admit(caller: CallerFacts, tags: readonly string[], estimateUsd: number): Promise<Admission>;
  /** Settles a reservation at the request's actual cost; idempotent per reservation. */
  record(
    reservation: Reservation,
    usage: NormalizedUsage,
    price: TokenPrice,
    attribution: Attribution,
  ): Promise<RecordedCost>;
  /** Gives a reservation back when the request cost nothing (it never reached an upstream). */
  release(reservation: Reservation): Promise<void>;
  /** Spend by key, team, tag, route and via for the current day and month. */
  report(): Promise<SpendSnapshot>;
}

/** Builds a ledger over a store and a set of budgets. */
export function createLedger(options: LedgerOptions): Ledger {
  const { store, budgets } = options;
  const clock = options.clock ?? systemClock;
  return {
    store,
    budgets,
    async facts(caller, tags) {
      const { applicable, checks } = applicableBudgets(budgets, caller, tags);
      if (checks.length === 0) return budgetFactSet([], []);
      return budgetFactSet(applicable, await store.levels(checks, clock()));
    },
    async admit(caller, tags, estimateUsd) {
      const estimateNano = usdToNano(estimateUsd);
      const now = clock();
      const { applicable, checks } = applicableBudgets(budgets, caller, tags);
      const outcome = await store.reserve(checks, estimateNano, now);
      if (outcome.ok) {
        return {
          ok: true,
          reservation: outcome.reservation,
          facts: budgetFactSet(applicable, outcome.levels),
        };
      }
      // Of the spent hard budgets, name the one that resets last: before then, nothing passes.
      let blocking: { budget: Budget; counterId: string; check: number } | undefined;
      for (const a of applicable) {
        if (a.budget.mode !== "hard" || !isSpent(outcome.levels[a.check], a.budget.limitNano)) {
          continue;
        }
        const end = windowAt(a.budget.window, now).end;
        if (!blocking || end > windowAt(blocking.budget.window, now).end) blocking = a;
      }
      if (!blocking) throw new Error("The store refused a reservation that no budget blocks");
      return exceeded(blocking, outcome.levels[blocking.check], now);
    },
    async record(reservation, usage, price, attribution) {
      const cost = costOf(usage, price);
      const recorded = await store.settle(reservation, cost.nanoUsd, attribution, clock());
      return { ...cost, recorded };
    },
    release(reservation) {
      return store.release(reservation);
    },
    report() {
      return spendSnapshot(store, clock());
    },
  };
}

function exceeded(
  blocking: { budget: Budget; counterId: string },
  level: { settledNano: number; heldNano: number },
  now: Date,
): BudgetExceeded {
  const { budget } = blocking;
  const resetsAt = windowAt(budget.window, now).end;
  const spentUsd = nanoToUsd(level.settledNano + level.heldNano);
  const scope = `${budget.scope.dimension}:${blocking.counterId}`;
  const inFlight = level.heldNano > 0
    ? ` (${formatUsd(nanoToUsd(level.heldNano))} of it held by requests in flight)`
    : "";
  return {
    ok: false,
    budget: budget.name,
    scope,
    window: budget.window,
    limitUsd: budget.limitUsd,
    spentUsd,
    inFlightUsd: nanoToUsd(level.heldNano),
    resetsAt: resetsAt.toISOString(),
    retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
    message: `Budget \`${budget.name}\` (${scope}, per ${budget.window}) is spent: ` +
      `${formatUsd(spentUsd)} of ${formatUsd(budget.limitUsd)}${inFlight}. ` +
      `It resets at ${resetsAt.toISOString()}.`,
  };
}
