/** The decision-log writer: content, privacy, failures that never reach a request, rotation. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildFacts } from "../../src/facts/facts.ts";
import { decide } from "../../src/policy/decide.ts";
import { loadPolicy } from "../../src/policy/load.ts";
import { DECISION_LOG_VERSION, type DecisionRecord } from "../../src/log/record.ts";
import { hashKeyId, loggedDecision, redactFacts } from "../../src/log/redact.ts";
import { readDecisionLog } from "../../src/log/reader.ts";
import { createDecisionLog, isSampled } from "../../src/log/writer.ts";
import { TIERS } from "../policy/tiers_oracle.ts";

const SECRET = "ZEBRA-7731 please never log this sentence";
const KEY_ID = "key_live_ultra_secret_42";

/** A record built the way the server builds it: real request, real facts, real decision. */
async function recordFor(requestId: string, secret = SECRET): Promise<DecisionRecord> {
  const policy = await loadPolicy(TIERS);
  const facts = buildFacts({
    model: "auto",
    max_tokens: 300,
    messages: [
      { role: "system", content: `You are terse. ${secret}` },
      { role: "user", content: secret },
    ],
  }, {
    headers: new Headers({ "x-switchyard-tags": "code" }),
    caller: { key: { id: KEY_ID, name: "app" }, tags: [] },
    routes: policy.routeFacts,
  });
  const decision = await decide(policy, facts);
  return {
    v: DECISION_LOG_VERSION,
    ts: new Date().toISOString(),
    request_id: requestId,
    policy: decision.policy,
    facts: redactFacts(facts, "salt"),
    decision: loggedDecision(decision),
    attempts: [{ route: decision.route, via: decision.via, outcome: "ok", latency_ms: 120 }],
    served_by: decision.route,
    status: 200,
    usage: { input_tokens: 40, output_tokens: 12, cached_input_tokens: 0 },
    cost_usd: 0.0001,
    duration_ms: 125,
  };
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "switchyard-log-" });
}

Deno.test("decision log: records round-trip through the file and no prompt text or key id enters it", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "decisions.jsonl");
    const records = [await recordFor("req-1"), await recordFor("req-2")];
    const log = createDecisionLog({ path });
    for (const r of records) assert.equal(log.append(r), undefined);
    await log.close();
    const text = await Deno.readTextFile(path);
    assert.equal(text.split("\n").length, 3, "two lines, each ending in a newline");
    assert.ok(!text.includes("ZEBRA"), "prompt text must never reach the log");
    assert.ok(!text.includes(KEY_ID), "the raw key id must never reach the log");
    assert.ok(text.includes(hashKeyId(KEY_ID, "salt")));
    const read = await readDecisionLog(path);
    assert.deepEqual(read.records, records);
    assert.deepEqual(read.warnings, []);
    assert.equal(log.status().written, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: the flush timer writes records without anyone calling flush", async () => {
  const dir = await tempDir();
  const log = createDecisionLog({ path: join(dir, "d.jsonl"), flushIntervalMs: 10 });
  try {
    log.append(await recordFor("req-timer"));
    assert.equal(log.status().buffered, 1);
    for (let i = 0; i < 100 && log.status().written === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(log.status().written, 1);
    assert.match(await Deno.readTextFile(join(dir, "d.jsonl")), /"request_id":"req-timer"/);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: an unwritable path never throws, is logged once, shows in status and is retried", async () => {
  const dir = await tempDir();
  const blocker = join(dir, "blocker");
  await Deno.writeTextFile(blocker, "a file where a directory should be");
  const messages: string[] = [];
  const log = createDecisionLog({
    path: join(blocker, "decisions.jsonl"),
    logger: (m) => messages.push(m),
    maxBufferedRecords: 5,
    flushIntervalMs: 10, // first retry after 50 ms
  });
  try {
    const record = await recordFor("req-a");
    for (let i = 0; i < 3; i++) log.append({ ...record, request_id: `req-${i}` });
    await log.flush();
    await log.flush(); // the same error again: logged once only
    let status = log.status();
    assert.equal(status.written, 0);
    assert.equal(status.buffered, 3, "records are kept for the retry");
    assert.equal(status.failing, true);
    assert.equal(status.writeErrors, 2);
    assert.ok(status.lastError, "the error is surfaced in status");
    assert.match(status.lastError.message, /not a directory|file exists|os error/i);
    assert.equal(messages.length, 1);
    assert.ok(!messages[0].includes("ZEBRA"));
    assert.match(messages[0], /Requests are still served/);

    for (let i = 3; i < 8; i++) log.append({ ...record, request_id: `req-${i}` });
    status = log.status();
    assert.equal(status.buffered, 5, "the buffer is bounded");
    assert.equal(status.dropped, 3, "the newest records are the ones dropped");

    await Deno.remove(blocker);
    // Nobody calls flush: the backoff timer retries on its own once the path is writable.
    for (let i = 0; i < 200 && log.status().written < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    status = log.status();
    assert.equal(status.failing, false);
    assert.equal(status.written, 5);
    const read = await readDecisionLog(join(blocker, "decisions.jsonl"));
    assert.deepEqual(read.records.map((r) => r.request_id), [
      "req-0",
      "req-1",
      "req-2",
      "req-3",
      "req-4",
    ]);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: rotation by size keeps every file under the limit and the reader restores the order", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "decisions.jsonl");
    const base = await recordFor("req");
    const lineBytes = new TextEncoder().encode(`${JSON.stringify(base)}\n`).length;
    const clock = new Date("2026-11-25T14:30:00Z");
    const log = createDecisionLog({
      path,
      rotation: { maxBytes: lineBytes + 10 },
      now: () => clock,
    });
    const ids = Array.from({ length: 12 }, (_, i) => `req-${String(i).padStart(2, "0")}`);
    for (const id of ids) log.append({ ...base, request_id: id });
    await log.close();
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.equal(names.length, 12, "one record per file at this size");
    assert.ok(names.includes("decisions.jsonl.20261125-143000"));
    assert.ok(names.includes("decisions.jsonl.20261125-143000-10"));
    for (const name of names) assert.ok((await Deno.stat(join(dir, name))).size <= lineBytes + 10);
    const read = await readDecisionLog(dir);
    assert.deepEqual(read.records.map((r) => r.request_id), ids);
    assert.equal(read.files.at(-1), path, "the live file is read last");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: daily rotation starts a new file when the UTC day changes", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "decisions.jsonl");
    let clock = new Date("2026-11-25T23:59:00Z");
    const log = createDecisionLog({ path, rotation: { daily: true }, now: () => clock });
    const base = await recordFor("req");
    log.append({ ...base, request_id: "day-1" });
    await log.flush();
    clock = new Date("2026-11-26T00:00:05Z");
    log.append({ ...base, request_id: "day-2" });
    await log.close();
    const rotated = await readDecisionLog(join(dir, "decisions.jsonl.20261126-000005"));
    assert.deepEqual(rotated.records.map((r) => r.request_id), ["day-1"]);
    const live = await readDecisionLog(path);
    assert.deepEqual(live.records.map((r) => r.request_id), ["day-2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: sampling is decided by request id, so two servers or a replay agree", async () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `req-${i}`);
  const kept = ids.filter((id) => isSampled(id, 0.25));
  assert.ok(kept.length > 900 && kept.length < 1100, `about a quarter kept, got ${kept.length}`);
  assert.deepEqual(ids.filter((id) => isSampled(id, 0.25)), kept, "deterministic");
  assert.ok(ids.every((id) => isSampled(id, 1)) && !ids.some((id) => isSampled(id, 0)));

  const dir = await tempDir();
  try {
    const base = await recordFor("req");
    const path = join(dir, "sampled.jsonl");
    const log = createDecisionLog({ path, sampleRate: 0.25 });
    for (const id of ids.slice(0, 400)) log.append({ ...base, request_id: id });
    await log.close();
    const expected = ids.slice(0, 400).filter((id) => isSampled(id, 0.25));
    const read = await readDecisionLog(path);
    assert.deepEqual(read.records.map((r) => r.request_id), expected);
    assert.equal(log.status().sampledOut, 400 - expected.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: a disabled log writes nothing and creates no file", async () => {
  const dir = await tempDir();
  try {
    const log = createDecisionLog({ path: join(dir, "off.jsonl"), enabled: false });
    log.append(await recordFor("req-off"));
    await log.close();
    await assert.rejects(Deno.stat(join(dir, "off.jsonl")), Deno.errors.NotFound);
    assert.deepEqual(
      { enabled: log.status().enabled, written: log.status().written },
      { enabled: false, written: 0 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: a record that cannot be serialized is dropped, not thrown", async () => {
  const dir = await tempDir();
  const log = createDecisionLog({ path: join(dir, "d.jsonl"), logger: () => {} });
  try {
    const record = await recordFor("req-cycle") as DecisionRecord & { self?: unknown };
    record.self = record;
    assert.doesNotThrow(() => log.append(record));
    assert.equal(log.status().dropped, 1);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashKeyId() is a stable, salted HMAC prefix that does not contain the id", () => {
  const a = hashKeyId(KEY_ID, "salt");
  assert.match(a, /^h:[0-9a-f]{16}$/);
  assert.equal(hashKeyId(KEY_ID, "salt"), a);
  assert.notEqual(hashKeyId(KEY_ID, "other salt"), a);
  assert.notEqual(hashKeyId("another key", "salt"), a);
});

Deno.test("decision log: a line torn by a crash costs only itself when the next run appends", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "decisions.jsonl");
    const before = await recordFor("req-before");
    const line = JSON.stringify(before);
    await Deno.writeTextFile(path, `${line}\n${line.slice(0, 40)}`); // the crash tore this line
    const log = createDecisionLog({ path });
    log.append(await recordFor("req-after"));
    await log.close();
    const read = await readDecisionLog(path);
    assert.deepEqual(read.records.map((r) => r.request_id), ["req-before", "req-after"]);
    assert.equal(read.warnings.length, 1);
    assert.equal(read.warnings[0].line, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
