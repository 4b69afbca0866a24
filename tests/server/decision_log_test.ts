/**
 * The decision log and the shadow policy on live requests over loopback: what a record holds (and
 * that no prompt text does), a server that keeps answering when its log cannot be written, and a
 * shadow policy's flips counted per route pair and readable by `policy diff --from-shadow`.
 */
import assert from "node:assert/strict";
import { readDecisionLog } from "../../src/log/reader.ts";
import type { Authenticator } from "../../src/server/auth.ts";
import { chat, hello, startTestServer, TEST_POLICY } from "./harness.ts";

const MARKER = "unicorn-sapphire-prompt-4412";

/** A key ring of one: `sk-test` is key `k-123` of team `core`. */
const auth: Authenticator = {
  enabled: true,
  authenticate: (token) =>
    Promise.resolve(
      token === "sk-test"
        ? { key: { id: "k-123", name: "app" }, team: { id: "core", name: "Core" }, tags: [] }
        : undefined,
    ),
};

Deno.test("decision log: one record per request with facts, decision, attempts, usage and cost — and no prompt", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/decisions.jsonl`;
  try {
    {
      await using server = await startTestServer({
        auth,
        config: { decisionLog: file, logSalt: "pepper" },
      });
      const headers = { authorization: "Bearer sk-test" };
      for (const tags of ["", "anthropic", "gateway"]) {
        const response = await chat(server, hello({}, `Tell me about ${MARKER}`), {
          ...headers,
          "x-switchyard-tags": tags,
        });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
      const streamed = await chat(server, hello({ stream: true }, MARKER), headers);
      await streamed.text();
    }
    const text = await Deno.readTextFile(file);
    assert.ok(!text.includes(MARKER), "prompt text never enters the log");
    assert.ok(!text.includes("k-123"), "the key id is hashed");
    const { records, warnings } = await readDecisionLog(file);
    assert.deepEqual(warnings, []);
    assert.equal(records.length, 4);
    const [first, second] = records;
    assert.equal(first.v, 1);
    assert.ok(Date.parse(first.ts) > 0);
    assert.match(first.request_id, /^[0-9a-f-]{36}$/);
    assert.match(first.trace_id ?? "", /^[0-9a-f]{32}$/);
    assert.deepEqual(first.policy.name, "test");
    assert.match(first.facts.key!.id, /^h:[0-9a-f]{16}$/);
    assert.equal(first.facts.team?.id, "core");
    assert.ok(first.facts.prompt.tokens > 0);
    assert.deepEqual(first.decision, {
      rule: null,
      route: "openai",
      via: "direct",
      fallbacks: ["gateway", "mistral"],
    });
    assert.equal(first.attempts[0].route, "openai");
    assert.equal(first.attempts[0].outcome, "ok");
    assert.ok(first.attempts[0].latency_ms >= 0);
    assert.equal(first.served_by, "openai");
    assert.equal(first.status, 200);
    assert.ok(first.usage && first.usage.output_tokens > 0);
    assert.ok((first.cost_usd ?? 0) > 0);
    assert.ok(first.duration_ms > 0);
    assert.equal(second.decision.route, "anthropic");
    assert.equal(records[2].decision.via, "gateway");
    assert.ok(records[3].attempts[0].ttft_ms !== undefined, "streams log time to first token");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decision log: an unwritable log path never fails a request, and the failure is reported", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/not-a-directory`, "");
  try {
    await using server = await startTestServer({
      config: { decisionLog: `${dir}/not-a-directory/decisions.jsonl` },
    });
    for (let i = 0; i < 3; i++) {
      const response = await chat(server, hello());
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    let status;
    for (let i = 0; i < 50; i++) {
      status = (await (await fetch(`${server.url}/v1/policy`)).json()).decision_log;
      if (status.lastError) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(status.lastError, "the write error shows in /v1/policy");
    assert.equal(status.failing, true);
    assert.ok(server.logs.some((l) => l.includes("decision log")), "and in the server's log");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shadow policy: flips are counted by route pair on live requests and logged beside the real decision", async () => {
  const dir = await Deno.makeTempDir();
  const shadowFile = `${dir}/candidate.yaml`;
  const log = `${dir}/decisions.jsonl`;
  // The candidate sends default traffic to mistral instead of openai; tagged traffic agrees.
  await Deno.writeTextFile(
    shadowFile,
    TEST_POLICY.replace("name: test", "name: candidate").replace(
      "default:\n  route: openai\n  fallbacks: [gateway, mistral]",
      "default:\n  route: mistral\n  fallbacks: [gateway]",
    ),
  );
  try {
    {
      await using server = await startTestServer({
        config: { shadowPolicy: shadowFile, decisionLog: log },
      });
      for (let i = 0; i < 4; i++) {
        const response = await chat(server, hello());
        assert.equal(response.headers.get("x-switchyard-route"), "openai", "the shadow never acts");
        await response.body?.cancel();
      }
      const tagged = await chat(server, hello(), { "x-switchyard-tags": "anthropic" });
      await tagged.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
      const shadow = (await (await fetch(`${server.url}/v1/policy`)).json()).shadow;
      assert.equal(shadow.name, "candidate");
      assert.deepEqual(shadow.decisions, {
        agree: 1,
        disagree: 4,
        flips: { "openai → mistral": 4 },
      });
    }
    const { records } = await readDecisionLog(log);
    assert.equal(records.length, 5);
    assert.equal(records[0].shadow?.route, "mistral");
    assert.equal(records[0].shadow?.policy.name, "candidate");
    assert.equal(records[4].shadow?.route, "anthropic");

    // `policy diff --from-shadow` reads the same flips straight from the log.
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "src/cli.ts",
        "policy",
        "diff",
        "--from-shadow",
        "--log",
        log,
        "--format",
        "json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0);
    const report = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(report.requests, 5);
    assert.equal(report.source.kind, "shadow");
    assert.equal(report.flipped, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
