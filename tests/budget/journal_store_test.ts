import assert from "node:assert/strict";
import { openJournalStore } from "../../src/budget/journal_store.ts";
import { type Reservation, type SpendStore, SpendStoreError } from "../../src/budget/store.ts";
import { killMidwayAndCheck } from "./durability.ts";
import { storeConformance } from "./store_suite.ts";

storeConformance("journal store", () => {
  const dir = Deno.makeTempDirSync({ prefix: "switchyard-journal-" });
  return {
    open: (options) => openJournalStore(`${dir}/spend.journal`, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("journal store: every spend printed after settle survives a SIGKILL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-journal-" });
  try {
    const path = `${dir}/spend.journal`;
    await killMidwayAndCheck([`journal:${path}`], () => openJournalStore(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("journal store: spends survive a SIGKILL that may land mid-compaction", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-journal-" });
  try {
    const path = `${dir}/spend.journal`;
    // 2 KiB: the journal is compacted every few spends, so the kill often finds one under way.
    await killMidwayAndCheck([`journal:${path}`, "", "2048"], () => openJournalStore(path), 300);
    await using store = await openJournalStore(path);
    assert.equal((await store.report("day", new Date())).rows.length > 300, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const T0 = new Date("2026-01-05T12:00:00.000Z");
const FIXTURE = new URL("./fixtures/open_store.ts", import.meta.url).pathname;

/** A temporary directory with a journal path in it, removed afterwards. */
async function withJournal(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-journal-" });
  try {
    await body(`${dir}/spend.journal`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reserves on a key's day budget and settles `nano`, attributed to `route`. */
async function spend(store: SpendStore, nano: number, route = "r", at = T0): Promise<Reservation> {
  const outcome = await store.reserve(
    [{ dimension: "key", id: "k-alice", window: "day", limitNano: 1e15 }],
    nano * 2,
    at,
  );
  assert.ok(outcome.ok);
  assert.equal(
    await store.settle(outcome.reservation, nano, {
      key: "k-alice",
      team: "research",
      tags: ["eu"],
      route,
      via: "direct",
    }, at),
    true,
  );
  return outcome.reservation;
}

/** Everything a store reports at `now`: both windows, every row. */
async function everything(store: SpendStore, now = T0): Promise<unknown> {
  return { day: await store.report("day", now), month: await store.report("month", now) };
}

/** Runs the open_store fixture in another process. */
async function openElsewhere(spec: string, mode = "write"): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      FIXTURE,
      spec,
      mode,
      T0.toISOString(),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test("journal store: a second process cannot open a journal in use and is told to use Redis", async () => {
  await withJournal(async (path) => {
    const store = await openJournalStore(path);
    try {
      await spend(store, 700);
      const refused = await openElsewhere(`journal:${path}`);
      assert.match(refused, /^refused JournalLockedError: The spend journal .* is in use/);
      assert.match(refused, /redis:\/\//);
      assert.equal(await openElsewhere(`journal:${path}`, "read-only"), "opened 700");
    } finally {
      await store.close();
    }
    assert.equal(await openElsewhere(`journal:${path}`), "opened 700", "the lock is released");
  });
});

Deno.test("journal store: a read-only handle reads the live state and refuses mutations", async () => {
  await withJournal(async (path) => {
    await using writer = await openJournalStore(path);
    await using reader = await openJournalStore(path, { readOnly: true });
    await spend(writer, 40);
    assert.equal((await reader.spent("key", "k-alice", "day", T0)).settledNano, 40);
    await assert.rejects(reader.reserve([], 1, T0), SpendStoreError);
    await assert.rejects(
      reader.settle({ id: "x", estimateNano: 0, counters: [], expiresAt: 0 }, 1, {
        tags: [],
        route: "r",
        via: "direct",
      }, T0),
      /read-only/,
    );
  });
});

Deno.test("journal store: a torn last line is skipped with a warning and cut off", async () => {
  await withJournal(async (path) => {
    {
      await using store = await openJournalStore(path);
      for (const nano of [10, 20, 30]) await spend(store, nano);
    }
    const complete = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, '{"t":"settle","id":"torn-by-a-cr', { append: true });
    const warnings: string[] = [];
    {
      await using store = await openJournalStore(path, {
        onError: (e) => warnings.push(e.message),
      });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /skipped a torn last line \(32 bytes/);
      assert.equal((await store.spent("key", "k-alice", "day", T0)).settledNano, 60);
      await spend(store, 40);
    }
    const text = await Deno.readTextFile(path);
    assert.ok(text.endsWith("\n") && !text.includes("torn-by-a-cr"));
    assert.ok(complete.endsWith("\n"));
    for (const line of text.trimEnd().split("\n")) JSON.parse(line);
    await using store = await openJournalStore(path, { onError: (e) => warnings.push(e.message) });
    assert.equal(warnings.length, 1, "nothing torn the second time");
    assert.equal((await store.spent("key", "k-alice", "day", T0)).settledNano, 100);
  });
});

Deno.test("journal store: a damaged line before the end fails the open with its line number", async () => {
  await withJournal(async (path) => {
    {
      await using store = await openJournalStore(path);
      await spend(store, 10);
    }
    {
      // Appended after the snapshot: not compacted away until the next open.
      await using store = await openJournalStore(path, { compactBytes: 1 << 20 });
      await spend(store, 20);
      await spend(store, 30);
    }
    const lines = (await Deno.readTextFile(path)).split("\n");
    lines.splice(lines.length - 2, 0, "{not json");
    await Deno.writeTextFile(path, lines.join("\n"));
    await assert.rejects(
      openJournalStore(path),
      new RegExp(`spend\\.journal:${lines.length - 2}: not a JSON line`),
    );
  });
});

Deno.test("journal store: compaction keeps the state exactly, through restarts", async () => {
  await withJournal(async (path) => {
    const options = { compactBytes: 4096 };
    let before: unknown;
    let settled: Reservation;
    let open: Reservation;
    {
      await using store = await openJournalStore(path, options);
      for (let i = 0; i < 400; i++) {
        await spend(store, 1_000 + i, `route-${i % 7}`, new Date(T0.getTime() + i * 60_000));
        // Compaction runs between requests, as it does in a server.
        if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      settled = await spend(store, 5);
      const held = await store.reserve(
        [{ dimension: "team", id: "research", window: "month" }],
        77,
        T0,
      );
      assert.ok(held.ok);
      open = held.reservation;
      const released = await store.reserve([{ dimension: "tag", id: "eu", window: "day" }], 9, T0);
      assert.ok(released.ok);
      await store.release(released.reservation);
      before = await everything(store);
      // Compacted while running: the file starts with a snapshot and holds fewer lines than the
      // 800 mutations made.
      const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
      assert.ok(JSON.parse(lines[0]).lines > 0, "a snapshot of the state so far");
      assert.ok(lines.length < 800, `${lines.length} lines`);
    }
    for (let restart = 0; restart < 2; restart++) {
      await using store = await openJournalStore(path, options);
      assert.deepEqual(await everything(store), before);
      assert.equal(
        await store.settle(settled, 5, { tags: [], route: "r", via: "direct" }, T0),
        false,
      );
    }
    const head = JSON.parse((await Deno.readTextFile(path)).split("\n")[0]);
    assert.equal(head.t, "head");
    await using store = await openJournalStore(path, options);
    await store.release(open);
    assert.deepEqual(await store.spent("team", "research", "month", T0), {
      settledNano: (before as { month: { rows: { id: string; settledNano: number }[] } }).month.rows
        .find((r) => r.id === "research")!.settledNano,
      heldNano: 0,
    });
  });
});

Deno.test("journal store: a compaction interrupted before its rename leaves the journal intact", async () => {
  await withJournal(async (path) => {
    {
      await using store = await openJournalStore(path);
      await spend(store, 321);
    }
    await Deno.writeTextFile(`${path}.compact`, '{"t":"head","v":1,"at":0,"lines":9}\n{"t":"cou');
    await using store = await openJournalStore(path);
    assert.equal((await store.spent("key", "k-alice", "day", T0)).settledNano, 321);
    await assert.rejects(Deno.stat(`${path}.compact`), Deno.errors.NotFound);
  });
});

Deno.test("journal store: counters are dropped once their window ended more than its retention ago", async () => {
  await withJournal(async (path) => {
    const later = new Date("2026-02-14T00:00:00.000Z"); // 39 days after the window's end
    {
      await using store = await openJournalStore(path);
      await spend(store, 11);
      await spend(store, 13, "r", later);
      assert.equal((await store.spent("key", "k-alice", "day", T0)).settledNano, 11);
    }
    await using store = await openJournalStore(path);
    assert.equal((await store.spent("key", "k-alice", "day", T0)).settledNano, 0);
    assert.deepEqual((await store.report("day", T0)).rows, []);
    assert.equal((await store.spent("key", "k-alice", "month", T0)).settledNano, 11);
    assert.equal((await store.spent("key", "k-alice", "day", later)).settledNano, 13);
  });
});

Deno.test("journal store: settled ids are remembered up to settledMemory, across restarts", async () => {
  await withJournal(async (path) => {
    const attribution = { tags: [], route: "r", via: "direct" } as const;
    const ids: Reservation[] = [];
    {
      await using store = await openJournalStore(path, { settledMemory: 2 });
      for (const nano of [1, 2, 3]) ids.push(await spend(store, nano));
    }
    await using store = await openJournalStore(path, { settledMemory: 2 });
    assert.equal(await store.settle(ids[2], 3, attribution, T0), false);
    assert.equal(await store.settle(ids[1], 2, attribution, T0), false);
    assert.equal(await store.settle(ids[0], 1, attribution, T0), true, "the oldest is forgotten");
  });
});

Deno.test("journal store: with fsyncMs 0 every mutation is synced and kept", async () => {
  await withJournal(async (path) => {
    {
      await using store = await openJournalStore(path, { fsyncMs: 0 });
      await spend(store, 12);
    }
    await using store = await openJournalStore(path);
    assert.equal((await store.spent("route", "r", "month", T0)).settledNano, 12);
  });
});

Deno.test("journal store: concurrent opens in one process share one journal, and reopen after close", async () => {
  await withJournal(async (path) => {
    const [a, b] = await Promise.all([openJournalStore(path), openJournalStore(path)]);
    await spend(a, 5);
    assert.equal((await b.spent("key", "k-alice", "day", T0)).settledNano, 5, "one state");
    await a.close();
    await spend(b, 6);
    const closing = b.close();
    const c = await openJournalStore(path);
    await closing;
    try {
      assert.equal((await c.spent("key", "k-alice", "day", T0)).settledNano, 11);
      await assert.rejects(a.report("day", T0), /closed/);
    } finally {
      await c.close();
    }
  });
});

Deno.test("journal store: a file that is not a journal is refused and left as it was", async () => {
  await withJournal(async (path) => {
    for (const text of ["SQLite format 3", "hello\nworld\n", '{"t":"release","ids":[]}\n']) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(openJournalStore(path), /is not a Switchyard spend journal/);
      assert.equal(await Deno.readTextFile(path), text);
    }
  });
});
