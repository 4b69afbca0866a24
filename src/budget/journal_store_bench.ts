/**
 * What admitting and settling one request costs the server in each embedded store: `reserve` on
 * three budgets (a key's day, a team's month, a tag's month) then `settle` of the actual cost,
 * on a journal and on Deno KV, both on a real file in a temporary directory (`:memory:` would hide
 * the cost of durability). Also `settle` alone (a request no budget applies to), the journal
 * syncing every mutation (`fsyncMs: 0`), and a read of the three levels (the budget facts).
 *
 * Needs write access for the temporary files:
 * `deno bench --allow-read --allow-write --allow-env src/budget/journal_store_bench.ts`.
 * Without it (as in `deno task bench`), these benchmarks are skipped.
 */
import { openJournalStore } from "./journal_store.ts";
import { openKvStore } from "./kv_store.ts";
import type { Attribution, CounterCheck, SpendStore } from "./store.ts";

const canWrite = Deno.permissions.querySync({ name: "write" }).state === "granted";
const dir = canWrite ? Deno.makeTempDirSync({ prefix: "switchyard-bench-" }) : "";
const NO_LIMIT = 1e15;

const CHECKS: CounterCheck[] = [
  { dimension: "key", id: "k-alice", window: "day", limitNano: NO_LIMIT },
  { dimension: "team", id: "research", window: "month", limitNano: NO_LIMIT },
  { dimension: "tag", id: "eu", window: "month" },
];
const ATTRIBUTION: Attribution = {
  key: "k-alice",
  team: "research",
  tags: ["eu"],
  route: "gpt-mini",
  via: "direct",
};

/** Opens a store lazily, so the module loads even without write permission. */
function store(open: () => Promise<SpendStore>): () => Promise<SpendStore> {
  let opened: Promise<SpendStore> | undefined;
  return () => opened ??= open();
}

const journal = store(() => openJournalStore(`${dir}/bench.journal`));
const journalSynced = store(() => openJournalStore(`${dir}/synced.journal`, { fsyncMs: 0 }));
const kv = store(() => openKvStore(`${dir}/bench.kv`));

async function admitAndSettle(open: () => Promise<SpendStore>): Promise<void> {
  const s = await open();
  const now = new Date();
  const outcome = await s.reserve(CHECKS, 2_000, now);
  if (!outcome.ok) throw new Error("blocked without a limit");
  await s.settle(outcome.reservation, 1_234, ATTRIBUTION, now);
}

const ignore = !canWrite;
Deno.bench({
  name: "journal: reserve + settle",
  group: "admit+settle",
  baseline: true,
  ignore,
  fn: async () => await admitAndSettle(journal),
});
Deno.bench({
  name: "journal, fsyncMs 0: reserve + settle",
  group: "admit+settle",
  ignore,
  fn: async () => await admitAndSettle(journalSynced),
});
Deno.bench({
  name: "kv: reserve + settle",
  group: "admit+settle",
  ignore,
  fn: async () => await admitAndSettle(kv),
});
// With no budget that applies, `reserve` holds nothing and writes nothing: this is `settle`.
for (const [name, open] of [["journal", journal], ["kv", kv]] as const) {
  Deno.bench({
    name: `${name}: reserve (no budget) + settle`,
    group: "settle",
    baseline: name === "journal",
    ignore,
    async fn() {
      const s = await open();
      const now = new Date();
      const outcome = await s.reserve([], 2_000, now);
      if (!outcome.ok) throw new Error("blocked without a limit");
      await s.settle(outcome.reservation, 1_234, ATTRIBUTION, now);
    },
  });
}
Deno.bench({
  name: "journal: levels of 3 budgets",
  group: "levels",
  baseline: true,
  ignore,
  async fn() {
    await (await journal()).levels(CHECKS, new Date());
  },
});
Deno.bench({
  name: "kv: levels of 3 budgets",
  group: "levels",
  ignore,
  async fn() {
    await (await kv()).levels(CHECKS, new Date());
  },
});

if (canWrite) {
  globalThis.addEventListener("unload", () => {
    // The stores' files are removed with the directory; handles close with the process.
    Deno.removeSync(dir, { recursive: true });
  });
}
