/**
 * Two Switchyard instances sharing one spend store enforce one budget: both are hammered
 * concurrently with requests under one hard tag budget until every client got a 429, and the
 * spend stays within the limit plus one in-flight request per instance. Shared through one Deno KV
 * file (two handles: SQLite serializes them, conflicting commits retry) and through Redis.
 */
import assert from "node:assert/strict";
import { estimateRequestCost, usdToNano } from "../../src/budget/cost.ts";
import type { Config } from "../../src/config.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import {
  type Call,
  dropNamespace,
  inOneUtcDay,
  LEDGER_POLICY,
  nanoOf,
  promptTokens,
  readSpend,
  send,
  testNamespace,
} from "./ledger_e2e.ts";

const REDIS_URL = Deno.env.get("REDIS_URL");

const LIMIT_USD = 0.03;
const BUDGETS = `
budgets:
  - { name: shared-cap, scope: { tag: shared }, window: day, limit_usd: ${LIMIT_USD}, mode: hard }
`;
const INSTANCES = 2;
/** Concurrent clients per instance. */
const WORKERS = 6;
/** A safety bound only: the budget admits about 50 requests in all. */
const MAX_PER_WORKER = 200;

/** The requests the clients cycle through: two routes, JSON and streams, different sizes. */
const VARIANTS: Call[] = [
  { route: "anthropic", stream: false, tags: ["shared"], maxTokens: 48, content: "Summarize" },
  { route: "openai", stream: true, tags: ["shared"], maxTokens: 32, content: "Explain budgets" },
  {
    route: "anthropic",
    stream: true,
    tags: ["shared"],
    maxTokens: 24,
    content: "A long one ".repeat(9),
  },
  { route: "openai", stream: false, tags: ["shared"], maxTokens: 48, content: "Count to ten" },
];

/** What one instance's clients saw. */
interface Tally {
  served: number;
  /** Clients that ended on a 429 `budget_exceeded`. */
  blocked: number;
  spentNano: number;
}

async function oneBudget(config: Partial<Config>): Promise<void> {
  const servers: TestServer[] = [];
  try {
    for (let n = 0; n < INSTANCES; n++) {
      servers.push(await startTestServer({ policy: LEDGER_POLICY, budgets: BUDGETS, config }));
    }
    const prices = servers[0].app.context.policies.current.policy.routes;
    // What admission reserves for each variant: the most one in-flight request can hold.
    const estimates = await Promise.all(VARIANTS.map(async (call) =>
      estimateRequestCost(
        { promptTokens: await promptTokens(servers[0].url, call), maxTokens: call.maxTokens },
        prices[call.route].price,
      ).nanoUsd
    ));
    const maxEstimate = Math.max(...estimates);
    const tallies: Tally[] = servers.map(() => ({ served: 0, blocked: 0, spentNano: 0 }));

    const client = async (n: number, worker: number) => {
      for (let k = 0; k < MAX_PER_WORKER; k++) {
        const v = (worker + k) % VARIANTS.length;
        const seen = await send(servers[n].url, VARIANTS[v]);
        if (seen.status === 429) {
          assert.equal(seen.error?.code, "budget_exceeded");
          assert.equal(seen.error?.budget, "shared-cap");
          tallies[n].blocked++;
          return;
        }
        assert.equal(seen.status, 200, JSON.stringify(seen.error));
        assert.ok(seen.complete && seen.usage, "a whole answer with its usage");
        const cost = nanoOf(seen.usage, prices[VARIANTS[v].route].price);
        assert.ok(cost <= estimates[v], `cost ${cost} within its reservation ${estimates[v]}`);
        tallies[n].served++;
        tallies[n].spentNano += cost;
      }
    };
    await Promise.all(
      servers.flatMap((_, n) => Array.from({ length: WORKERS }, (_, w) => client(n, w))),
    );

    const limitNano = usdToNano(LIMIT_USD);
    for (const [n, tally] of tallies.entries()) {
      assert.ok(tally.served > 0, `instance ${n} served requests under the budget`);
      assert.equal(tally.blocked, WORKERS, `every client of instance ${n} ended on a 429`);
    }
    const clientsSpent = tallies.reduce((sum, t) => sum + t.spentNano, 0);
    for (const server of servers) {
      const row = (await readSpend(server.url)).day.rows.get("tag:shared");
      assert.ok(row, "the shared tag has spend");
      assert.equal(row.settledNano, clientsSpent, "both instances see every settled request");
      assert.equal(row.heldNano, 0, "nothing is held once every client is done");
      assert.ok(
        row.settledNano <= limitNano + maxEstimate * INSTANCES,
        `spent ${row.settledNano} ≤ limit ${limitNano} + ${INSTANCES} × ${maxEstimate}`,
      );
      // Every admitted request's client went on to a 429 after it, so the last 429 came when
      // nothing was held any more: settled spend alone had reached the limit.
      assert.ok(row.settledNano >= limitNano, `spent ${row.settledNano} ≥ limit ${limitNano}`);
      assert.ok(
        tallies.every((t) => t.spentNano < row.settledNano),
        "neither instance spent it alone",
      );
    }
  } finally {
    for (const server of servers) await server.close();
  }
}

Deno.test("ledger e2e: two instances sharing a KV file enforce one hard budget", async () => {
  await inOneUtcDay(async () => {
    const dir = await Deno.makeTempDir({ prefix: "switchyard-shared-" });
    try {
      await oneBudget({ store: `kv:${dir}/spend.kv` });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test({
  name: "ledger e2e: two instances sharing Redis enforce one hard budget",
  ignore: !REDIS_URL,
  async fn() {
    await inOneUtcDay(async () => {
      const namespace = testNamespace();
      try {
        await oneBudget({ store: REDIS_URL, storeNamespace: namespace });
      } finally {
        await dropNamespace(REDIS_URL!, namespace);
      }
    });
  },
});
