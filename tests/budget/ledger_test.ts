import assert from "node:assert/strict";
import type { CallerFacts } from "../../src/facts/facts.ts";
import { openKvStore } from "../../src/budget/kv_store.ts";
import { type Admission, createLedger, type Ledger } from "../../src/budget/ledger.ts";
import type { Budget } from "../../src/budget/types.ts";
import type { NormalizedUsage } from "../../src/upstream/types.ts";
import { budget } from "./store_suite.ts";

const ALICE: CallerFacts = {
  key: { id: "k-alice", name: "Alice" },
  team: { id: "research", name: "Research" },
  tags: ["code"],
};
const BOB: CallerFacts = { ...ALICE, key: { id: "k-bob", name: "Bob" } };
/** $1 per million output tokens, nothing else: `output_tokens: 1e6 × usd` costs exactly `usd`. */
const PRICE = { input: 0, cached_input: 0, cache_write: 0, output: 1 };
const usd = (amount: number): NormalizedUsage => ({
  input_tokens: 0,
  cached_input_tokens: 0,
  cache_write_tokens: 0,
  output_tokens: Math.round(amount * 1e6),
  reasoning_tokens: 0,
});

/** A ledger over an in-memory KV store, with a clock the test moves. */
async function withLedger(
  budgets: Budget[],
  body: (ledger: Ledger, clock: { now: Date }) => Promise<void>,
): Promise<void> {
  await using store = await openKvStore(":memory:");
  const clock = { now: new Date("2026-01-05T12:00:00.000Z") };
  await body(createLedger({ store, budgets, clock: () => clock.now }), clock);
}

/** Admits and records a spend of `amount` USD for a caller. */
async function spend(ledger: Ledger, caller: CallerFacts, amount: number, tags: string[] = []) {
  const admission = await ledger.admit(caller, tags, 0);
  assert.ok(admission.ok, "admitted");
  await ledger.record(admission.reservation, usd(amount), PRICE, {
    key: caller.key?.id,
    team: caller.team?.id,
    tags: [...caller.tags, ...tags],
    route: "r",
    via: "direct",
  });
}

function refused(admission: Admission) {
  assert.equal(admission.ok, false, "refused");
  assert.ok(!admission.ok);
  return admission;
}

Deno.test("ledger: a key's budget holds when its team has a budget too", async () => {
  const budgets = [
    budget("alice", { dimension: "key", id: "k-alice" }, 1),
    budget("research", { dimension: "team", id: "research" }, 100),
  ];
  await withLedger(budgets, async (ledger) => {
    await spend(ledger, ALICE, 1);
    const no = refused(await ledger.admit(ALICE, [], 0.01));
    assert.equal(no.budget, "alice");
    assert.equal(no.scope, "key:k-alice");
    assert.equal((await ledger.admit(BOB, [], 0.01)).ok, true, "the team still has room");
  });
});

Deno.test("ledger: a spent team budget blocks every key of the team", async () => {
  const budgets = [
    budget("alice", { dimension: "key", id: "k-alice" }, 100),
    budget("research", { dimension: "team", id: "research" }, 2),
  ];
  await withLedger(budgets, async (ledger) => {
    await spend(ledger, BOB, 2);
    assert.equal(refused(await ledger.admit(ALICE, [], 0.01)).budget, "research");
  });
});

Deno.test("ledger: a budget is spent at exactly its limit, not a nano-dollar before", async () => {
  await withLedger([budget("cap", { dimension: "key", id: "k-alice" }, 1)], async (ledger) => {
    await spend(ledger, ALICE, 0.999999);
    assert.equal((await ledger.admit(ALICE, [], 0)).ok, true, "$0.999999 of $1");
    await spend(ledger, ALICE, 0.000001);
    const no = refused(await ledger.admit(ALICE, [], 0));
    assert.equal(no.spentUsd, 1);
    assert.equal(no.limitUsd, 1);
  });
});

Deno.test("ledger: a spent soft budget never blocks, and the facts show it", async () => {
  const soft = budget("soft", { dimension: "key", id: "k-alice" }, 1, { mode: "soft" });
  await withLedger([soft], async (ledger) => {
    await spend(ledger, ALICE, 1.5);
    const admission = await ledger.admit(ALICE, [], 0.01);
    assert.ok(admission.ok);
    assert.deepEqual(admission.facts.budget, {
      limit_usd: 1,
      spent_usd: 1.5,
      remaining_usd: 0,
      spent_ratio: 1.5,
      window: "month",
      name: "soft",
    });
  });
});

Deno.test("ledger: facts name the tightest budget and each scope's own", async () => {
  const budgets = [
    budget("team-month", { dimension: "team", id: "research" }, 100),
    budget("key-day", { dimension: "key", id: "*" }, 10, { window: "day", mode: "soft" }),
    budget("key-month", { dimension: "key", id: "k-alice" }, 50),
    budget("code", { dimension: "tag", id: "code" }, 20),
    budget("eu", { dimension: "tag", id: "eu" }, 30),
  ];
  await withLedger(budgets, async (ledger) => {
    await spend(ledger, ALICE, 9);
    const facts = await ledger.facts(ALICE, ["eu"]);
    assert.equal(facts.budget.name, "key-day", "$1 left is the least");
    assert.equal(facts.budget.remaining_usd, 1);
    assert.equal(facts.budgets.key?.name, "key-day");
    assert.equal(facts.budgets.team?.name, "team-month");
    assert.equal(facts.budgets.team?.remaining_usd, 91);
    assert.deepEqual(Object.keys(facts.budgets.tags).sort(), ["code", "eu"]);
    assert.equal(facts.budgets.tags.code.spent_usd, 9, "the key's own tag");
    assert.equal(facts.budgets.tags.eu.spent_usd, 0, "the request's tag");
    const admission = await ledger.admit(ALICE, ["eu"], 0.5);
    assert.ok(admission.ok);
    assert.deepEqual(admission.facts, facts, "admit reports the levels before its reservation");
    assert.equal((await ledger.facts(ALICE, ["eu"])).budget.spent_usd, 9.5, "in flight counts");
  });
});

Deno.test("ledger: with no budget that applies, the facts say none", async () => {
  await withLedger([budget("eu", { dimension: "tag", id: "eu" }, 1)], async (ledger) => {
    const admission = await ledger.admit({ tags: [] }, ["code"], 0.2);
    assert.ok(admission.ok);
    assert.deepEqual(admission.facts, {
      budget: { spent_usd: 0, spent_ratio: 0, window: "none" },
      budgets: { tags: {} },
    });
  });
});

Deno.test("ledger: `*` gives each key its own spend against the limit", async () => {
  await withLedger([budget("each", { dimension: "key", id: "*" }, 1)], async (ledger) => {
    await spend(ledger, ALICE, 1);
    assert.equal(refused(await ledger.admit(ALICE, [], 0)).scope, "key:k-alice");
    const bob = await ledger.admit(BOB, [], 0);
    assert.ok(bob.ok);
    assert.equal(bob.facts.budget.spent_usd, 0);
  });
});

Deno.test("ledger: in-flight reservations count toward a hard budget until released", async () => {
  await withLedger([budget("cap", { dimension: "team", id: "research" }, 1)], async (ledger) => {
    const first = await ledger.admit(ALICE, [], 0.6);
    const second = await ledger.admit(BOB, [], 0.5);
    assert.ok(first.ok && second.ok, "0.6 held < 1: the second still fits");
    const no = refused(await ledger.admit(ALICE, [], 0.01));
    assert.equal(no.spentUsd, 1.1);
    assert.equal(no.inFlightUsd, 1.1);
    assert.match(no.message, /held by requests in flight/);
    await ledger.release(first.reservation);
    assert.equal((await ledger.admit(ALICE, [], 0.01)).ok, true);
  });
});

Deno.test("ledger: budgets roll over exactly at 00:00 UTC, with an injected clock", async () => {
  const budgets = [
    budget("day", { dimension: "key", id: "k-alice" }, 1, { window: "day" }),
    budget("month", { dimension: "key", id: "k-alice" }, 1.5),
  ];
  await withLedger(budgets, async (ledger, clock) => {
    clock.now = new Date("2026-01-31T23:59:59.999Z");
    await spend(ledger, ALICE, 1);
    const no = refused(await ledger.admit(ALICE, [], 0));
    assert.equal(no.budget, "day");
    assert.equal(no.resetsAt, "2026-02-01T00:00:00.000Z");
    assert.equal(no.retryAfterSeconds, 1);
    clock.now = new Date("2026-02-01T00:00:00.000Z");
    const admission = await ledger.admit(ALICE, [], 0);
    assert.ok(admission.ok, "a new day and a new month");
    assert.equal(admission.facts.budgets.key?.spent_usd, 0);
    await spend(ledger, ALICE, 1);
    clock.now = new Date("2026-02-02T00:00:00.000Z");
    const nextDay = await ledger.admit(ALICE, [], 0);
    assert.ok(nextDay.ok);
    assert.equal(nextDay.facts.budget.name, "month", "$0.50 left this month, $1 today");
    assert.equal(nextDay.facts.budget.spent_usd, 1, "the month still counts February's spend");
  });
});

Deno.test("ledger: when several hard budgets are spent, the 429 names the one that resets last", async () => {
  const budgets = [
    budget("day", { dimension: "key", id: "k-alice" }, 1, { window: "day" }),
    budget("month", { dimension: "team", id: "research" }, 1),
  ];
  await withLedger(budgets, async (ledger, clock) => {
    await spend(ledger, ALICE, 1);
    const no = refused(await ledger.admit(ALICE, [], 0));
    assert.equal(no.budget, "month");
    assert.equal(no.resetsAt, "2026-02-01T00:00:00.000Z");
    assert.equal(no.retryAfterSeconds, (Date.UTC(2026, 1, 1) - clock.now.getTime()) / 1000);
    assert.match(
      no.message,
      /^Budget `month` \(team:research, per month\) is spent: \$1\.00 of \$1\.00\./,
    );
  });
});

Deno.test("ledger: record uses the gateway's reported cost and is idempotent", async () => {
  await withLedger([], async (ledger, clock) => {
    const admission = await ledger.admit(ALICE, [], 0.01);
    assert.ok(admission.ok);
    const usage = { ...usd(5), reported_cost_usd: 0.0123 };
    const attribution = { key: "k-alice", tags: [], route: "or", via: "gateway" as const };
    const first = await ledger.record(admission.reservation, usage, PRICE, attribution);
    assert.deepEqual(first, {
      usd: 0.0123,
      nanoUsd: 12_300_000,
      source: "reported",
      recorded: true,
    });
    const again = await ledger.record(admission.reservation, usage, PRICE, attribution);
    assert.equal(again.recorded, false);
    const spent = await ledger.store.spent("key", "k-alice", "month", clock.now);
    assert.equal(spent.settledNano, 12_300_000);
    const report = await ledger.report();
    assert.equal(report.month.totalNano, 12_300_000);
    assert.equal(report.day.period, "2026-01-05");
  });
});
