import assert from "node:assert/strict";
import { openStore } from "../../src/budget/open.ts";
import type { SpendSnapshot } from "../../src/budget/report.ts";
import { UsageError } from "../../src/cli/exit.ts";
import { spend } from "../../src/cli/spend.ts";

const AT = "2026-01-05T12:00:00.000Z";

/** A KV store file with two recorded requests and one in flight. */
async function withSpend(body: (spec: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-spend-" });
  const spec = `kv:${dir}/nested/spend.kv`;
  try {
    {
      await using store = await openStore(spec);
      const now = new Date(AT);
      const check = { dimension: "team" as const, id: "research", window: "day" as const };
      for (
        const [route, via, nano] of [["gpt-mini", "direct", 1_234_500], [
          "or-breadth",
          "gateway",
          2_000_000_000,
        ]] as const
      ) {
        const r = await store.reserve([check], 10, now);
        assert.ok(r.ok);
        await store.settle(r.reservation, nano, {
          key: "k-alice",
          team: "research",
          tags: ["eu"],
          route,
          via,
        }, now);
      }
      assert.ok((await store.reserve([check], 500_000, now)).ok);
    }
    await body(spec);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("spend prints today's and this month's spend as a table", async () => {
  await withSpend(async (spec) => {
    let out = "";
    assert.equal(await spend(["--store", spec, "--at", AT], (text) => out += text), 0);
    const lines = out.split("\n");
    assert.equal(lines[0], `spend at ${AT}`);
    assert.ok(
      lines.includes("day 2026-01-05  total $2.00  (resets 2026-01-06T00:00:00.000Z)"),
      out,
    );
    assert.ok(lines.includes("month 2026-01  total $2.00  (resets 2026-02-01T00:00:00.000Z)"), out);
    assert.match(out, /^ {2}scope +id +spent +in flight +requests$/m);
    assert.match(out, /^ {2}team +research +\$2\.00 +\$0\.0005 +2$/m);
    assert.match(out, /^ {2}route +gpt-mini +\$0\.0012345 +\$0\.00 +1$/m);
    assert.match(out, /^ {2}via +gateway +\$2\.00 +\$0\.00 +1$/m);
  });
});

Deno.test("spend --json prints the typed snapshot", async () => {
  await withSpend(async (spec) => {
    let out = "";
    assert.equal(await spend(["--store", spec, "--at", AT, "--json"], (text) => out += text), 0);
    const snapshot: SpendSnapshot = JSON.parse(out);
    assert.equal(snapshot.at, AT);
    assert.equal(snapshot.day.totalNano, 2_001_234_500);
    assert.deepEqual(
      snapshot.month.rows.filter((r) => r.dimension === "via").map((r) => [r.id, r.settledNano]),
      [["gateway", 2_000_000_000], ["direct", 1_234_500]],
    );
    let later = "";
    const args = ["--store", spec, "--at", "2026-03-01T00:00:00Z", "--json"];
    assert.equal(await spend(args, (text) => later = text), 0);
    assert.deepEqual(JSON.parse(later).month.rows, [], "a new month starts empty");
  });
});

Deno.test("spend rejects an unknown store and a bad --at", async () => {
  await assert.rejects(spend(["--store", "postgres://x"], () => {}), UsageError);
  await assert.rejects(
    spend(["--store", "kv::memory:", "--at", "yesterday"], () => {}),
    UsageError,
  );
});

Deno.test("spend reads a journal that a running server holds, from another process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-spend-" });
  const path = `${dir}/spend.journal`;
  try {
    await using store = await openStore(`journal:${path}`);
    const now = new Date(AT);
    for (const [route, nano] of [["gpt-mini", 1_500], ["gpt-big", 2_500]] as const) {
      const r = await store.reserve([{ dimension: "key", id: "k-alice", window: "day" }], 9, now);
      assert.ok(r.ok);
      await store.settle(
        r.reservation,
        nano,
        { key: "k-alice", tags: [], route, via: "direct" },
        now,
      );
    }
    // As `deno task spend` runs it, with read access to the journal's directory only.
    const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        "--allow-env=SWITCHYARD_STORE",
        cli,
        "spend",
        "--store",
        `journal:${path}`,
        "--at",
        AT,
        "--json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const snapshot: SpendSnapshot = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(snapshot.day.totalNano, 4_000);
    assert.deepEqual(
      snapshot.day.rows.filter((r) => r.dimension === "route").map((r) => [r.id, r.settledNano]),
      [["gpt-big", 2_500], ["gpt-mini", 1_500]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spend on a journal that does not exist yet prints no spend and creates nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-spend-" });
  try {
    let out = "";
    const spec = `journal:${dir}/missing/spend.journal`;
    assert.equal(await spend(["--store", spec, "--at", AT, "--json"], (t) => out = t), 0);
    assert.equal(JSON.parse(out).month.totalNano, 0);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
