/**
 * Execution: every fault mode of the simulators makes the primary route fail before the client
 * sees a byte, and the fallback serves; failures after bytes were sent end the stream with an
 * error event and no [DONE].
 */
import assert from "node:assert/strict";
import { readDecisionLog } from "../../src/log/reader.ts";
import type { FaultSpec } from "../../src/sim/engine.ts";
import { chat, hello, sseData, startTestServer, type TestServer } from "./harness.ts";

/** Requests tagged `anthropic` go to the anthropic route, falling back to openai. */
const TO_ANTHROPIC = { "x-switchyard-tags": "anthropic" };

function breakAnthropic(server: TestServer, fault: FaultSpec) {
  const sim = server.fleet.sims.anthropic;
  sim.configure({ ...sim.state.options, fault });
}

const FAULTS: [string, FaultSpec, string][] = [
  ["a 5xx", { mode: "error" }, "server_error"],
  ["a 429", { mode: "rate_limit", retry_after_s: 0 }, "rate_limited"],
  ["a connection reset", { mode: "reset" }, "connection"],
  ["a first-byte timeout", { mode: "timeout" }, "timeout_first_byte"],
  ["a malformed body", { mode: "malformed" }, "malformed"],
  ["an error inside a 200", { mode: "error_in_200" }, "error_in_body"],
  ["a context-length 400", { mode: "context_length" }, "context_length"],
];

for (const [what, fault, kind] of FAULTS) {
  for (const stream of [false, true]) {
    Deno.test(`fallback: ${what} from the primary is served by the fallback (${stream ? "streaming" : "JSON"})`, async () => {
      const dir = await Deno.makeTempDir();
      const decisionLog = `${dir}/decisions.jsonl`;
      try {
        {
          await using server = await startTestServer({ config: { decisionLog } });
          breakAnthropic(server, fault);
          const response = await chat(server, hello({ stream }), TO_ANTHROPIC);
          assert.equal(response.status, 200);
          assert.equal(response.headers.get("x-switchyard-route"), "openai");
          assert.equal(response.headers.get("x-switchyard-rule"), "to-anthropic");
          assert.equal(response.headers.get("x-switchyard-attempts"), "2");
          if (stream) {
            const data = await sseData(response);
            assert.equal(data.at(-1), "[DONE]");
            assert.match(
              data.slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "").join(""),
              /Hello there/,
            );
          } else {
            const body = await response.json();
            assert.match(body.choices[0].message.content, /Hello there/);
          }
          const status = await (await fetch(`${server.url}/v1/route`, {
            method: "POST",
            headers: { "content-type": "application/json", ...TO_ANTHROPIC },
            body: JSON.stringify(hello()),
          })).json();
          assert.equal(status.decision.route, "anthropic", "the decision itself is unchanged");
        }
        // The decision log is flushed on close; it says why the primary was left.
        const { records } = await readDecisionLog(decisionLog);
        assert.equal(records.length, 1);
        assert.deepEqual(
          records[0].attempts.map((a) => [a.route, a.outcome]),
          [["anthropic", kind], ["openai", "ok"]],
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

for (
  const [what, fault] of [
    ["a stream cut before any content", { mode: "mid_stream_cut", after_chunks: 0 }],
    ["a stream stalled before any content", { mode: "mid_stream_stall", after_chunks: 0 }],
    ["an SSE error event before any content", { mode: "sse_error", after_chunks: 0 }],
  ] as [string, FaultSpec][]
) {
  Deno.test(`fallback: ${what} is served by the fallback`, async () => {
    await using server = await startTestServer();
    breakAnthropic(server, fault);
    const response = await chat(server, hello({ stream: true }), TO_ANTHROPIC);
    assert.equal(response.headers.get("x-switchyard-route"), "openai");
    const data = await sseData(response);
    assert.equal(data.at(-1), "[DONE]");
  });
}

for (
  const [what, fault, code] of [
    ["cut", { mode: "mid_stream_cut", after_chunks: 3 }, "upstream_stream_cut"],
    ["stalled", { mode: "mid_stream_stall", after_chunks: 3 }, "upstream_timeout_idle"],
    [
      "broken by an SSE error event",
      { mode: "sse_error", after_chunks: 3 },
      "upstream_error_in_body",
    ],
  ] as [string, FaultSpec, string][]
) {
  Deno.test(`mid-stream: a stream ${what} after content ends with an error event and no [DONE]`, async () => {
    await using server = await startTestServer();
    breakAnthropic(server, fault);
    const response = await chat(server, hello({ stream: true }), TO_ANTHROPIC);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-switchyard-route"), "anthropic");
    const data = await sseData(response);
    assert.ok(!data.includes("[DONE]"), "a cut answer never ends with [DONE]");
    const last = JSON.parse(data.at(-1)!);
    assert.equal(last.error.code, code);
    assert.equal(last.error.type, "server_error");
    const content = data.slice(0, -1).map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? "");
    assert.ok(content.join("").length > 0, "content arrived before the failure");
  });
}

Deno.test("fallback: retries stay on the route before falling back", async () => {
  const policy = (await import("./harness.ts")).TEST_POLICY.replace(
    "    model: claude-sonnet-4-5\n",
    "    model: claude-sonnet-4-5\n    retries: 2\n",
  );
  await using server = await startTestServer({ policy });
  breakAnthropic(server, { mode: "error" });
  const before = server.fleet.sims.anthropic.seen.length;
  const response = await chat(server, hello(), TO_ANTHROPIC);
  await response.body?.cancel();
  assert.equal(server.fleet.sims.anthropic.seen.length - before, 3, "1 try + 2 retries");
  assert.equal(response.headers.get("x-switchyard-attempts"), "4");
  assert.equal(response.headers.get("x-switchyard-route"), "openai");
});

Deno.test("fallback: an open circuit skips the route until its cool-down ends", async () => {
  await using server = await startTestServer({
    config: { circuitFailureThreshold: 2, circuitOpenMs: 300 },
  });
  breakAnthropic(server, { mode: "error" });
  for (let i = 0; i < 2; i++) await (await chat(server, hello(), TO_ANTHROPIC)).body?.cancel();
  const before = server.fleet.sims.anthropic.seen.length;
  const skipped = await chat(server, hello(), TO_ANTHROPIC);
  await skipped.body?.cancel();
  assert.equal(server.fleet.sims.anthropic.seen.length, before, "the open route was not called");
  assert.equal(skipped.headers.get("x-switchyard-attempts"), "1");
  const route = await (await fetch(`${server.url}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", ...TO_ANTHROPIC },
    body: JSON.stringify(hello()),
  })).json();
  assert.equal(route.candidates[0].circuit, "open");
  // After the cool-down, one probe goes through; the route healed, so the circuit closes.
  breakAnthropic(server, { mode: "none" });
  await new Promise((r) => setTimeout(r, 350));
  const probe = await chat(server, hello(), TO_ANTHROPIC);
  await probe.body?.cancel();
  assert.equal(probe.headers.get("x-switchyard-route"), "anthropic");
});

Deno.test("fallback: a fallback whose context window cannot hold the prompt is skipped, and says so", async () => {
  await using server = await startTestServer();
  const sim = server.fleet.sims.openai;
  sim.configure({ ...sim.state.options, fault: { mode: "error" } });
  const response = await chat(server, hello({}, "word ".repeat(200)), {
    "x-switchyard-tags": "tiny",
  });
  await response.body?.cancel();
  assert.equal(response.headers.get("x-switchyard-route"), "mistral");
  const failed = await chat(server, hello({}, "word ".repeat(200)), {
    "x-switchyard-tags": "tiny",
  });
  assert.equal(failed.status, 200);
  await failed.body?.cancel();
  const sims = server.fleet.sims.mistral.seen.filter((s) => s.path.includes("chat"));
  assert.ok(sims.length >= 2);
  // The 503 path lists the skip.
  const msim = server.fleet.sims.mistral;
  msim.configure({ ...msim.state.options, fault: { mode: "error" } });
  const none = await chat(server, hello({}, "word ".repeat(200)), { "x-switchyard-tags": "tiny" });
  const error = (await none.json()).error;
  assert.equal(none.status, 503);
  assert.match(error.message, /tiny: skipped \(context_too_small\)/);
});

Deno.test("fallback: a client that disconnects aborts the upstream request", async () => {
  let cancelled = Promise.withResolvers<void>();
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    cancelled = Promise.withResolvers<void>();
    const encoder = new TextEncoder();
    let timer: ReturnType<typeof setInterval>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let i = 0;
        timer = setInterval(() => {
          const chunk = {
            id: "c1",
            object: "chat.completion.chunk",
            created: 1,
            model: "slow",
            choices: [{ index: 0, delta: { content: `tick ${i++} ` }, finish_reason: null }],
          };
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
        }, 20);
      },
      cancel() {
        clearInterval(timer);
        cancelled.resolve();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const policy = `
name: slow
version: 1
routes:
  slow:
    via: direct
    provider: openai-compatible
    model: slow
    base_url: http://127.0.0.1:${upstream.addr.port}/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
default: { route: slow }
`;
    await using server = await startTestServer({ policy });
    const response = await chat(server, hello({ stream: true }));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const result = await Promise.race([
      cancelled.promise.then(() => "cancelled"),
      new Promise((r) => setTimeout(() => r("still streaming"), 2000)),
    ]);
    assert.equal(result, "cancelled");
  } finally {
    await upstream.shutdown();
  }
});
