/**
 * Durability end to end: the real `serve` process on a Deno KV file, under concurrent load, is
 * killed with SIGKILL mid-way and restarted on the same file. Every response a client received
 * whole (a JSON body, or a stream up to `[DONE]`) had its spend settled before it completed, so
 * the restarted server reports at least their sum, and at most that plus what the requests still
 * in flight at the kill could have cost (each bounded by the estimate admission reserved).
 */
import assert from "node:assert/strict";
import { estimateRequestCost } from "../../src/budget/cost.ts";
import { loadPolicy } from "../../src/policy/load.ts";
import {
  addTo,
  type Call,
  inOneUtcDay,
  LEDGER_POLICY,
  nanoOf,
  promptTokens,
  readSpend,
  send,
} from "./ledger_e2e.ts";
import { spawnServe } from "./process.ts";

/** A budget that never blocks this load, so every request also holds a reservation. */
const BUDGETS = `
budgets:
  - { name: load-cap, scope: { tag: load }, window: day, limit_usd: 1000, mode: hard }
`;
const WORKERS = 12;
/** The kill comes once this many responses completed. */
const KILL_AFTER = 60;
/** A safety bound per client; the kill comes long before. */
const MAX_PER_WORKER = 100;

const VARIANTS: Call[] = [
  { route: "openai", stream: false, tags: ["load"], maxTokens: 64, content: "Hello there" },
  { route: "openai", stream: true, tags: ["load"], maxTokens: 64, content: "Stream it" },
  { route: "anthropic", stream: true, tags: ["load"], maxTokens: 64, content: "Tell a story" },
  { route: "anthropic", stream: false, tags: ["load"], maxTokens: 64, content: "Be brief" },
  { route: "mistral", stream: true, tags: ["load"], maxTokens: 64, content: "Count sheep" },
  { route: "mistral", stream: false, tags: ["load"], maxTokens: 64, content: "And then?" },
];

async function killAndRestart(dir: string): Promise<void> {
  const policyFile = `${dir}/policy.yaml`;
  const budgetsFile = `${dir}/budgets.yaml`;
  await Deno.writeTextFile(policyFile, LEDGER_POLICY);
  await Deno.writeTextFile(budgetsFile, BUDGETS);
  const env = {
    SWITCHYARD_STORE: `kv:${dir}/spend.kv`,
    SWITCHYARD_BUDGETS_FILE: budgetsFile,
    SWITCHYARD_SIM_LATENCY_SCALE: "0.01",
    SWITCHYARD_WATCH: "false",
  };
  const prices = (await loadPolicy(policyFile)).routes;
  const costOfSeen = (call: Call, usage: Parameters<typeof nanoOf>[0]) =>
    nanoOf(usage, prices[call.route].price);

  /** Spend of the responses received whole, by `dimension:id`. */
  const completed = new Map<string, number>();
  let completedNano = 0;
  let completedCount = 0;
  /** Started and not received whole: id → the estimate its reservation holds. */
  const unfinished = new Map<number, number>();
  let inFlightAtKill = 0;

  {
    await using first = await spawnServe(["--policy", policyFile], env);
    const estimates = await Promise.all(VARIANTS.map(async (call) =>
      estimateRequestCost(
        { promptTokens: await promptTokens(first.url, call), maxTokens: call.maxTokens },
        prices[call.route].price,
      ).nanoUsd
    ));
    let stopped = false;
    let nextId = 0;
    const client = async (worker: number) => {
      for (let k = 0; k < MAX_PER_WORKER && !stopped; k++) {
        const v = (worker + k) % VARIANTS.length;
        const call = VARIANTS[v];
        const id = nextId++;
        unfinished.set(id, estimates[v]);
        let seen;
        try {
          seen = await send(first.url, call);
        } catch {
          continue; // Cut by the kill: in flight.
        }
        if (!seen.complete) continue;
        assert.equal(seen.status, 200, JSON.stringify(seen.error));
        assert.ok(seen.usage, "a whole answer carries its usage");
        const cost = costOfSeen(call, seen.usage);
        assert.ok(cost <= estimates[v], `cost ${cost} within its reservation ${estimates[v]}`);
        unfinished.delete(id);
        completedNano += cost;
        completedCount++;
        for (const scope of [`route:${call.route}`, "tag:load", "via:direct"]) {
          addTo(completed, scope, cost);
        }
        if (completedCount >= KILL_AFTER && !stopped) {
          stopped = true;
          inFlightAtKill = unfinished.size;
          first.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => client(w)));
    const status = await first.status;
    assert.equal(status.signal, "SIGKILL", "killed mid-load, not finished");
    assert.ok(inFlightAtKill > 0, "requests were in flight at the kill");
  }

  // Whatever was in flight may or may not have been settled: each at most its reservation.
  const allowance = [...unfinished.values()].reduce((sum, nano) => sum + nano, 0);
  await using second = await spawnServe(["--policy", policyFile], env);
  const spend = (await readSpend(second.url)).day;
  for (const [scope, nano] of completed) {
    const row = spend.rows.get(scope);
    assert.ok(row, `${scope} has spend after the restart`);
    assert.ok(row.settledNano >= nano, `${scope}: ${row.settledNano} ≥ completed ${nano}`);
    assert.ok(
      row.settledNano <= nano + allowance,
      `${scope}: ${row.settledNano} ≤ completed ${nano} + in flight ${allowance}`,
    );
  }
  assert.ok(spend.totalNano >= completedNano, "no completed response's spend was lost");
  assert.ok(spend.totalNano <= completedNano + allowance);
  const load = spend.rows.get("tag:load")!;
  assert.ok(load.requests >= completedCount);
  assert.ok(load.heldNano <= allowance, "only in-flight requests still hold reservations");

  // The restarted server keeps accounting on the same file.
  const call = VARIANTS[0];
  const seen = await send(second.url, call);
  assert.equal(seen.status, 200);
  const after = (await readSpend(second.url)).day;
  assert.equal(
    after.rows.get(`route:${call.route}`)!.settledNano,
    spend.rows.get(`route:${call.route}`)!.settledNano + costOfSeen(call, seen.usage!),
  );
}

Deno.test("ledger e2e: serve killed with SIGKILL mid-load and restarted keeps the spend of every completed response", async () => {
  await inOneUtcDay(async () => {
    const dir = await Deno.makeTempDir({ prefix: "switchyard-kill-" });
    try {
      await killAndRestart(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
