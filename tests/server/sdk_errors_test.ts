/**
 * The official `openai` SDK against the server's errors: each status arrives as the SDK's own
 * error class with the server's `code`/`param`, and a stream that fails after it started throws
 * while the client iterates it instead of ending as if the answer were whole.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestServer, TEST_POLICY, type TestServer } from "./harness.ts";

/** No retries: the SDK would otherwise retry 503s, honouring `retry-after`. */
function client(server: TestServer, headers: Record<string, string> = {}) {
  return new OpenAI({
    baseURL: server.baseURL,
    apiKey: "unused",
    maxRetries: 0,
    defaultHeaders: headers,
  });
}

const hi = [{ role: "user" as const, content: "Hello from the SDK" }];

Deno.test("sdk errors: an invalid parameter is a BadRequestError naming the param", async () => {
  await using server = await startTestServer();
  await assert.rejects(
    client(server).chat.completions.create({ model: "auto", messages: hi, temperature: 7 }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.param, "temperature");
      assert.equal(e.type, "invalid_request_error");
      assert.match(e.message, /temperature/);
      assert.ok(e.requestID, "the request id header reaches the SDK");
      return true;
    },
  );
});

Deno.test("sdk errors: an unknown model is a NotFoundError with code model_not_found", async () => {
  await using server = await startTestServer({
    policy: TEST_POLICY.replace(
      'accept_models: [auto, "*/*"]',
      "accept_models: [auto]",
    ),
  });
  await assert.rejects(
    client(server).chat.completions.create({ model: "vendor/unknown", messages: hi }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError, String(e));
      assert.equal(e.code, "model_not_found");
      assert.equal(e.param, "model");
      return true;
    },
  );
});

Deno.test("sdk errors: a body over the size limit is an APIError with status 413", async () => {
  await using server = await startTestServer({ config: { maxBodyBytes: 1024 } });
  await assert.rejects(
    client(server).chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "x".repeat(4096) }],
    }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.equal(e.status, 413);
      assert.equal(e.code, "request_too_large");
      return true;
    },
  );
});

Deno.test("sdk errors: no route able to serve is an APIError with status 503 listing the attempts", async () => {
  await using server = await startTestServer();
  for (const name of ["openai", "openrouter", "mistral"] as const) {
    const sim = server.fleet.sims[name];
    sim.configure({ ...sim.state.options, fault: { mode: "error" } });
  }
  for (const stream of [false, true]) {
    await assert.rejects(
      client(server).chat.completions.create({ model: "auto", messages: hi, stream }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.InternalServerError, String(e));
        assert.equal(e.status, 503);
        assert.equal(e.code, "no_route_available");
        assert.match(e.message, /openai: server_error.*mistral: server_error/);
        assert.equal(e.headers.get("x-switchyard-attempts"), "3");
        return true;
      },
    );
  }
});

Deno.test("sdk errors: a stream cut after content throws while iterating", async () => {
  await using server = await startTestServer();
  const sim = server.fleet.sims.anthropic;
  sim.configure({ ...sim.state.options, fault: { mode: "mid_stream_cut", after_chunks: 3 } });
  const stream = await client(server, { "x-switchyard-tags": "anthropic" }).chat.completions
    .create({ model: "auto", messages: hi, stream: true });
  let text = "";
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })(),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.match(e.message, /The upstream stream failed after the response started/);
      assert.equal(e.code, "upstream_stream_cut");
      return true;
    },
  );
  assert.ok(text.length > 0, "content arrived before the failure");
});
