/**
 * Conformance cases for failures: every simulator fault mode must reach `routing/` as the right
 * `UpstreamError` kind (or a failed fetch, or a broken stream), read through the adapter alone.
 */
import assert from "node:assert/strict";
import type { ChatRequest } from "../../src/upstream/types.ts";
import { UpstreamError, type UpstreamErrorKind } from "../../src/upstream/errors.ts";
import type { FaultMode, FaultSpec } from "../../src/sim/engine.ts";
import { sleep } from "../../src/sim/engine.ts";
import { SseParser } from "../../src/upstream/sse.ts";
import type { ConformanceSpec } from "./conformance.ts";
import { startHarness } from "./conformance_client.ts";

const ASK: ChatRequest = {
  model: "client-model",
  messages: [{ role: "user", content: "Tell me about routing faults" }],
};

/** Awaits `promise`, expecting an `UpstreamError`, and returns it. */
async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

/** Registers the fault cases for `spec`. */
export function registerFaultCases(spec: ConformanceSpec): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`${spec.name} conformance: ${name}`, fn);
  const withFault = (fault: FaultSpec) => startHarness(spec, { fault });

  const statusCases: [FaultMode, UpstreamErrorKind][] = [
    ["error", "server_error"],
    ["rate_limit", "rate_limited"],
    ["context_length", "context_length"],
  ];
  for (const [mode, kind] of statusCases) {
    test(`the ${mode} fault is classified as ${kind}`, async () => {
      await using h = await withFault({ mode, retry_after_s: 3 });
      const error = await upstreamError(h.complete(ASK));
      assert.equal(error.kind, kind);
      assert.ok(error.status && error.status >= 400, "the status is kept");
      if (mode === "rate_limit") assert.equal(error.retryAfterMs, 3000);
      // Streaming requests fail the same way, before any event.
      assert.equal((await upstreamError(h.stream(ASK))).kind, kind);
    });
  }

  test("a wrong API key is classified as auth", async () => {
    await using h = await startHarness(spec);
    const response = await h.send(ASK, { includeUsage: true }, {
      target: { ...h.target, apiKey: "not-the-key" },
    });
    const error = spec.adapter.error(response.status, await response.text(), response.headers);
    assert.equal(error.kind, "auth");
    // Google answers a wrong key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401.
    assert.ok([400, 401, 403].includes(response.status), `status ${response.status}`);
  });

  test("an error object in a 200 body is classified as error_in_body", async () => {
    await using h = await withFault({ mode: "error_in_200" });
    assert.equal((await upstreamError(h.complete(ASK))).kind, "error_in_body");
  });

  test("a 200 body that is not the provider's format is classified as malformed", async () => {
    await using h = await withFault({ mode: "malformed" });
    assert.equal((await upstreamError(h.complete(ASK))).kind, "malformed");
  });

  test("an error event inside a stream becomes an error StreamEvent", async () => {
    await using h = await withFault({ mode: "sse_error", after_chunks: 2 });
    const { events, failure } = await h.stream(ASK);
    assert.equal(failure, undefined);
    const errors = events.flatMap((e) => e.type === "error" ? [e.error] : []);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof UpstreamError);
    assert.ok(events.some((e) => e.type === "chunk" && e.content), "content came first");
    assert.ok(!events.some((e) => e.type === "done"), "an errored stream is not done");
  });

  test("a reset connection makes fetch fail without a response", async () => {
    await using h = await withFault({ mode: "reset" });
    await assert.rejects(h.send(ASK), TypeError);
  });

  test("the timeout fault never answers until the client gives up", async () => {
    await using h = await withFault({ mode: "timeout" });
    const started = performance.now();
    await assert.rejects(h.send(ASK, undefined, { signal: AbortSignal.timeout(150) }));
    assert.ok(performance.now() - started >= 140, "no response came before the deadline");
  });

  test("a stream cut mid-way fails the read after the first chunks, without done", async () => {
    await using h = await withFault({ mode: "mid_stream_cut", after_chunks: 2 });
    const { events, failure } = await h.stream(ASK);
    assert.ok(failure !== undefined, "reading the stream failed");
    assert.ok(events.some((e) => e.type === "chunk" && e.content), "content came first");
    assert.ok(!events.some((e) => e.type === "done"));
  });

  test("a stalled stream stops sending but stays open", async () => {
    await using h = await withFault({ mode: "mid_stream_stall", after_chunks: 2 });
    const client = new AbortController();
    const response = await h.send({ ...ASK, stream: true }, { includeUsage: true }, {
      signal: client.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.pipeThrough(new SseParser())
      .pipeThrough(spec.adapter.stream(h.target, { includeUsage: true })).getReader();
    let content = 0;
    while (content < 1) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended instead of stalling");
      if (value.type === "chunk" && value.content) content++;
    }
    // Drain what was sent before the stall, then expect silence.
    let next = reader.read();
    for (;;) {
      const outcome = await Promise.race([next, sleep(200).then(() => "silent" as const)]);
      if (outcome === "silent") break;
      assert.ok(!outcome.done, "the stream closed instead of stalling");
      assert.notEqual(outcome.value.type, "done");
      next = reader.read();
    }
    client.abort();
    await next.catch(() => {});
    await reader.cancel().catch(() => {});
  });
}
