/** Reading decision logs: torn and malformed lines, versions, rotated files in order. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.ts";
import { logFiles, readDecisionLog } from "../../src/log/reader.ts";
import { compareLogFiles, rotatedPath } from "../../src/log/rotation.ts";
import { TIERS } from "../policy/tiers_oracle.ts";
import { generateRecords, logText } from "./generate.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-reader-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const records = await generateRecords(await loadPolicy(TIERS), { count: 3 });

Deno.test("readDecisionLog() skips a torn final line with a warning and keeps every whole record", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "decisions.jsonl");
    const torn = JSON.stringify(records[2]).slice(0, 120); // a crash mid-write: no newline
    await Deno.writeTextFile(path, logText(records.slice(0, 2)) + torn);
    const read = await readDecisionLog(path);
    assert.deepEqual(read.records, records.slice(0, 2));
    assert.equal(read.warnings.length, 1);
    assert.equal(read.warnings[0].file, path);
    assert.equal(read.warnings[0].line, 3);
    assert.match(read.warnings[0].message, /^torn final line/);
  });
});

Deno.test("readDecisionLog() skips malformed lines and unknown versions, and says which line", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "decisions.jsonl");
    const noDecision = { ...records[1], decision: undefined };
    const future = { ...records[1], v: 99 };
    await Deno.writeTextFile(
      path,
      [
        JSON.stringify(records[0]),
        "this is not json",
        JSON.stringify(noDecision),
        JSON.stringify(future),
        "",
        JSON.stringify(records[2]),
        "",
      ].join("\n"),
    );
    const read = await readDecisionLog(path);
    assert.deepEqual(read.records, [records[0], records[2]]);
    assert.deepEqual(read.warnings.map((w) => w.line), [2, 3, 4]);
    assert.match(read.warnings[0].message, /malformed line skipped: not valid JSON/);
    assert.match(read.warnings[1].message, /`decision`/);
    assert.match(read.warnings[2].message, /version 99 is not supported/);
  });
});

Deno.test("logFiles() reads rotated files oldest first, then the live file", async () => {
  await withDir(async (dir) => {
    const live = join(dir, "decisions.jsonl");
    const at = new Date("2026-11-25T10:00:00Z");
    const later = new Date("2026-11-26T09:00:00Z");
    const names = [
      live,
      rotatedPath(live, later),
      rotatedPath(live, at, 10),
      rotatedPath(live, at, 2),
      rotatedPath(live, at),
    ];
    for (const [i, name] of names.entries()) {
      await Deno.writeTextFile(name, logText([records[i % 3]]));
    }
    await Deno.writeTextFile(join(dir, "notes.txt"), "not a log");
    const files = await logFiles([dir]);
    assert.deepEqual(files, [
      `${live}.20261125-100000`,
      `${live}.20261125-100000-2`,
      `${live}.20261125-100000-10`,
      `${live}.20261126-090000`,
      live,
    ]);
    assert.deepEqual([...files].reverse().sort(compareLogFiles), files);
    assert.equal((await readDecisionLog(dir)).records.length, 5);
  });
});
