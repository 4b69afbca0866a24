/**
 * One conformance suite every spend store runs (as Hono runs one suite against every router):
 * atomic reserve, idempotent settle, release, lease reclaim, window rollover, reports, and the
 * ledger under concurrency across one and two store handles.
 */
import assert from "node:assert/strict";
import { costOf, usdToNano } from "../../src/budget/cost.ts";
import { createLedger } from "../../src/budget/ledger.ts";
import type { Attribution, CounterCheck, SpendStore } from "../../src/budget/store.ts";
import type { Budget } from "../../src/budget/types.ts";
import type { NormalizedUsage } from "../../src/upstream/types.ts";

/** Opens handles on one shared backing store; `cleanup` removes the backing store. */
export interface StoreFactory {
  open(options?: { leaseMs?: number }): Promise<SpendStore>;
  cleanup(): Promise<void>;
}

const T0 = new Date("2026-01-05T12:00:00.000Z");
const PRICE = { input: 0.15, cached_input: 0.075, cache_write: 0.1875, output: 0.6 };
const ALICE: Attribution = {
  key: "k-alice",
  team: "research",
  tags: ["eu", "code"],
  route: "gpt-mini",
  via: "direct",
};

/** A budget as loaded from a file. */
export function budget(
  name: string,
  scope: Budget["scope"],
  limitUsd: number,
  options: Partial<Pick<Budget, "window" | "mode">> = {},
): Budget {
  return {
    name,
    scope,
    window: options.window ?? "month",
    limitUsd,
    limitNano: usdToNano(limitUsd),
    mode: options.mode ?? "hard",
    file: "budgets.yaml",
    line: 1,
  };
}

/** Registers the suite for one store implementation. */
export function storeConformance(name: string, factory: () => StoreFactory, ignore = false): void {
  const test = (title: string, body: (f: StoreFactory) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore,
      async fn() {
        const f = factory();
        try {
          await body(f);
        } finally {
          await f.cleanup();
        }
      },
    });

  const keyCheck = (limitNano?: number): CounterCheck => ({
    dimension: "key",
    id: "k-alice",
    window: "day",
    ...(limitNano === undefined ? {} : { limitNano }),
  });

  test("reserve holds the estimate and settle replaces it by the actual cost", async (f) => {
    await using store = await f.open();
    const first = await store.reserve([keyCheck(1_000)], 300, T0);
    assert.ok(first.ok);
    assert.deepEqual(first.levels, [{ settledNano: 0, heldNano: 0 }]);
    assert.deepEqual(await store.spent("key", "k-alice", "day", T0), {
      settledNano: 0,
      heldNano: 300,
    });
    assert.equal(await store.settle(first.reservation, 120, ALICE, T0), true);
    assert.deepEqual(await store.spent("key", "k-alice", "day", T0), {
      settledNano: 120,
      heldNano: 0,
    });
    assert.deepEqual(await store.spent("route", "gpt-mini", "month", T0), {
      settledNano: 120,
      heldNano: 0,
    });
  });

  test("settling the same reservation twice, even concurrently, counts once", async (f) => {
    await using store = await f.open();
    const outcome = await store.reserve([keyCheck()], 50, T0);
    assert.ok(outcome.ok);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.settle(outcome.reservation, 70, ALICE, T0)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.settle(outcome.reservation, 70, ALICE, T0), false);
    assert.deepEqual(await store.spent("key", "k-alice", "day", T0), {
      settledNano: 70,
      heldNano: 0,
    });
  });

  test("release gives the estimate back and records nothing", async (f) => {
    await using store = await f.open();
    const outcome = await store.reserve([keyCheck(1_000)], 400, T0);
    assert.ok(outcome.ok);
    await store.release(outcome.reservation);
    await store.release(outcome.reservation);
    assert.deepEqual(await store.spent("key", "k-alice", "day", T0), {
      settledNano: 0,
      heldNano: 0,
    });
  });

  test("a hard limit blocks once settled plus held reaches it, and not before", async (f) => {
    await using store = await f.open();
    const settle = async (nano: number) => {
      const r = await store.reserve([keyCheck(100)], 0, T0);
      assert.ok(r.ok, "admitted below the limit");
      await store.settle(r.reservation, nano, ALICE, T0);
    };
    await settle(99);
    const held = await store.reserve([keyCheck(100)], 1, T0);
    assert.ok(held.ok, "99 of 100 spent: still room");
    const blocked = await store.reserve([keyCheck(100), { ...keyCheck(), window: "month" }], 1, T0);
    assert.equal(blocked.ok, false, "99 settled + 1 held reaches the limit");
    assert.ok(!blocked.ok && blocked.blocked.length === 1 && blocked.blocked[0] === 0);
    assert.deepEqual(blocked.levels[0], { settledNano: 99, heldNano: 1 });
    await store.settle(held.reservation, 1, ALICE, T0);
    assert.equal((await store.reserve([keyCheck(100)], 0, T0)).ok, false, "100 of 100 is spent");
    assert.equal((await store.reserve([keyCheck(101)], 0, T0)).ok, true);
  });

  test("a reservation whose lease expired is reclaimed, and settling it later still records", async (f) => {
    await using store = await f.open({ leaseMs: 60_000 });
    const stale = await store.reserve([keyCheck(1_000)], 900, T0);
    assert.ok(stale.ok);
    const early = await store.reserve([keyCheck(1_000)], 10, new Date(T0.getTime() + 30_000));
    assert.equal(early.ok, true, "900 + 10 held is below 1000");
    assert.ok(early.ok);
    const later = new Date(T0.getTime() + 61_000);
    const after = await store.reserve([keyCheck(1_000)], 10, later);
    assert.ok(after.ok, "the expired 900 no longer counts");
    assert.deepEqual(after.levels[0], { settledNano: 0, heldNano: 10 });
    assert.equal(await store.settle(stale.reservation, 5, ALICE, later), true);
    assert.deepEqual(await store.spent("key", "k-alice", "day", later), {
      settledNano: 5,
      heldNano: 20,
    });
  });

  test("windows roll over exactly at the UTC day and month boundaries", async (f) => {
    await using store = await f.open();
    const record = async (at: string, nano: number) => {
      const r = await store.reserve([], 0, new Date(at));
      assert.ok(r.ok);
      await store.settle(r.reservation, nano, ALICE, new Date(at));
    };
    await record("2026-01-31T23:59:59.999Z", 7);
    await record("2026-02-01T00:00:00.000Z", 11);
    const spent = (window: "day" | "month", at: string) =>
      store.spent("team", "research", window, new Date(at)).then((l) => l.settledNano);
    assert.equal(await spent("day", "2026-01-31T00:00:00.000Z"), 7);
    assert.equal(await spent("day", "2026-02-01T23:59:59.999Z"), 11);
    assert.equal(await spent("month", "2026-01-01T00:00:00.000Z"), 7);
    assert.equal(await spent("month", "2026-02-28T23:59:59.999Z"), 11);
    assert.equal(await spent("month", "2026-03-01T00:00:00.000Z"), 0);
  });

  test("report lists spend by key, team, tag, route and via", async (f) => {
    await using store = await f.open();
    const record = async (attribution: Attribution, nano: number) => {
      const r = await store.reserve([keyCheck()], 1_000, T0);
      assert.ok(r.ok);
      await store.settle(r.reservation, nano, attribution, T0);
    };
    await record(ALICE, 300);
    await record({ ...ALICE, route: "or:gpt/mini", via: "gateway", tags: ["eu"] }, 200);
    const pending = await store.reserve([keyCheck()], 1_000, T0);
    assert.ok(pending.ok);
    const report = await store.report("day", T0);
    assert.equal(report.period, "2026-01-05");
    assert.equal(report.end, "2026-01-06T00:00:00.000Z");
    assert.equal(report.totalNano, 500);
    const row = (dimension: string, id: string) =>
      report.rows.find((r) => r.dimension === dimension && r.id === id);
    assert.deepEqual(row("key", "k-alice"), {
      dimension: "key",
      id: "k-alice",
      settledNano: 500,
      heldNano: 1_000,
      requests: 2,
    });
    assert.equal(row("team", "research")?.settledNano, 500);
    assert.equal(row("tag", "eu")?.settledNano, 500);
    assert.equal(row("tag", "code")?.settledNano, 300);
    assert.equal(row("route", "or:gpt/mini")?.settledNano, 200);
    assert.equal(row("via", "gateway")?.settledNano, 200);
    assert.equal(row("via", "direct")?.settledNano, 300);
    assert.deepEqual(report.rows.map((r) => r.dimension), [
      "key",
      "team",
      "tag",
      "tag",
      "route",
      "route",
      "via",
      "via",
    ]);
    assert.equal((await store.report("month", T0)).totalNano, 500);
  });

  test("500 concurrent admit + record leave the ledger equal to the exact sum", async (f) => {
    await using store = await f.open();
    const ledger = createLedger({
      store,
      budgets: [
        budget("team-month", { dimension: "team", id: "research" }, 1_000),
        budget("key-day", { dimension: "key", id: "*" }, 500, { window: "day", mode: "soft" }),
        budget("eu", { dimension: "tag", id: "eu" }, 1_000),
      ],
      clock: () => T0,
    });
    const keys = ["k-1", "k-2", "k-3", "k-4"];
    let expected = 0;
    const perKey = new Map<string, number>();
    await Promise.all(Array.from({ length: 500 }, async (_, i) => {
      const key = keys[i % keys.length];
      const caller = { key: { id: key, name: key }, team: { id: "research", name: "R" }, tags: [] };
      const usage: NormalizedUsage = {
        input_tokens: 100 + i * 7,
        cached_input_tokens: i % 3 === 0 ? 50 : 0,
        cache_write_tokens: i % 5 === 0 ? 20 : 0,
        output_tokens: 10 + (i % 17) * 13,
        reasoning_tokens: 0,
      };
      const nano = costOf(usage, PRICE).nanoUsd;
      expected += nano;
      perKey.set(key, (perKey.get(key) ?? 0) + nano);
      const admission = await ledger.admit(caller, ["eu"], 0.0005);
      assert.ok(admission.ok);
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      const recorded = await ledger.record(admission.reservation, usage, PRICE, {
        key,
        team: "research",
        tags: ["eu"],
        route: i % 2 ? "gpt-mini" : "or-mini",
        via: i % 2 ? "direct" : "gateway",
      });
      assert.equal(recorded.nanoUsd, nano);
    }));
    const report = await store.report("month", T0);
    assert.equal(report.totalNano, expected);
    const sum = (dimension: string) =>
      report.rows.filter((r) => r.dimension === dimension).reduce((s, r) => s + r.settledNano, 0);
    for (const dimension of ["key", "team", "tag", "route", "via"]) {
      assert.equal(sum(dimension), expected, dimension);
    }
    for (const [key, nano] of perKey) {
      assert.equal((await store.spent("key", key, "day", T0)).settledNano, nano);
    }
    assert.ok(report.rows.every((r) => r.heldNano === 0), "nothing left held");
    assert.equal(
      report.rows.find((r) => r.dimension === "via" && r.id === "direct")?.requests,
      250,
    );
  });

  test("two store handles enforce one budget, overspending less than one request", async (f) => {
    await using a = await f.open();
    await using b = await f.open();
    const budgets = [budget("team-cap", { dimension: "team", id: "research" }, 1)];
    const ledgers = [a, b].map((store) => createLedger({ store, budgets, clock: () => T0 }));
    const caller = { team: { id: "research", name: "R" }, tags: [] };
    // Each request costs exactly its $0.07 estimate: 70 output tokens at $1000 per million.
    const price = { input: 0, cached_input: 0, cache_write: 0, output: 1000 };
    const usage = {
      input_tokens: 0,
      cached_input_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 70,
      reasoning_tokens: 0,
    };
    let admitted = 0;
    let refused = 0;
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const ledger = ledgers[i % 2];
      const admission = await ledger.admit(caller, [], 0.07);
      if (!admission.ok) {
        refused++;
        assert.equal(admission.budget, "team-cap");
        return;
      }
      admitted++;
      await new Promise((resolve) => setTimeout(resolve, i % 4));
      await ledger.record(admission.reservation, usage, price, {
        team: "research",
        tags: [],
        route: "r",
        via: "direct",
      });
    }));
    const spent = (await a.spent("team", "research", "month", T0)).settledNano;
    // 14 × 0.07 = 0.98 < 1 admits a 15th; then 1.05 ≥ 1 blocks everyone, on both handles.
    assert.equal(admitted, 15);
    assert.equal(refused, 185);
    assert.equal(spent, usdToNano(1.05));
    assert.ok(spent - usdToNano(1) < usdToNano(0.07), "over by less than one request");
    for (const ledger of ledgers) assert.equal((await ledger.admit(caller, [], 0)).ok, false);
  });
}
