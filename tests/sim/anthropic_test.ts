import assert from "node:assert/strict";
import { createAnthropicSimulator } from "../../src/sim/anthropic.ts";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.ts";
import type { SimulatorOptions } from "../../src/sim/engine.ts";
import { SseParser } from "../../src/upstream/sse.ts";

const KEY = "sim-key";
const FAST: SimulatorOptions = {
  latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
  apiKey: KEY,
  seed: 3,
};
const HEADERS = { "x-api-key": KEY, "anthropic-version": "2023-06-01" };
const ASK = {
  model: "claude-sonnet-5-5",
  max_tokens: 64,
  messages: [{ role: "user", content: "Describe the simulator" }],
};

function post(
  sim: RunningSimulator,
  body: unknown,
  headers: Record<string, string> = HEADERS,
): Promise<Response> {
  return fetch(`${sim.origin}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Posts and expects an Anthropic error envelope; returns [status, type, message]. */
async function failure(response: Response): Promise<[number, string, string]> {
  const body = await response.json();
  assert.equal(body.type, "error");
  assert.match(body.request_id, /^req_/);
  return [response.status, body.error.type, body.error.message];
}

Deno.test("anthropic sim: a stream sends the documented events, named after their type", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const response = await post(sim, { ...ASK, stream: true });
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = [];
  for await (const event of response.body!.pipeThrough(new SseParser())) {
    const data = JSON.parse(event.data);
    assert.equal(event.event, data.type, "event: names the data's type");
    events.push(data);
  }
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 3), ["message_start", "content_block_start", "ping"]);
  assert.deepEqual(types.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
  assert.ok(types.slice(3, -3).every((t) => t === "content_block_delta"));
  const start = events[0].message;
  assert.equal(start.model, "claude-sonnet-5-5");
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.ok(start.usage.input_tokens > 0);
  assert.equal(start.usage.output_tokens, 1);
  const delta = events.at(-2);
  assert.equal(delta.delta.stop_reason, "end_turn");
  assert.ok(delta.usage.output_tokens > 1, "output tokens are the cumulative total");
});

Deno.test("anthropic sim: a streamed tool call opens with an empty input fragment", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const response = await post(sim, {
    ...ASK,
    stream: true,
    tools: [{
      name: "lookup",
      input_schema: { type: "object", properties: { q: { type: "string" } } },
    }],
  });
  const events = [];
  for await (const event of response.body!.pipeThrough(new SseParser())) {
    events.push(JSON.parse(event.data));
  }
  const block = events[1].content_block;
  assert.equal(block.type, "tool_use");
  assert.match(block.id, /^toolu_/);
  assert.deepEqual(block.input, {});
  assert.deepEqual(events[3].delta, { type: "input_json_delta", partial_json: "" });
  const json = events.filter((e) => e.delta?.type === "input_json_delta")
    .map((e) => e.delta.partial_json).join("");
  assert.equal(typeof JSON.parse(json).q, "string");
  assert.equal(events.at(-2).delta.stop_reason, "tool_use");
});

Deno.test("anthropic sim: requests the real API refuses are refused with its messages", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const cases: [unknown, Record<string, string>, RegExp][] = [
    [ASK, { "x-api-key": KEY }, /^anthropic-version: header is required$/],
    [{ ...ASK, max_tokens: undefined }, HEADERS, /^max_tokens: Field required$/],
    [{ ...ASK, stream_options: {} }, HEADERS, /^stream_options: Extra inputs are not permitted$/],
    [{ ...ASK, temperature: 1.5 }, HEADERS, /^temperature: /],
    [{ ...ASK, temperature: 0.5, top_p: 0.9 }, HEADERS, /cannot both be specified/],
    [{ ...ASK, tool_choice: { type: "any" } }, HEADERS, /only be specified while providing tools/],
    [{ ...ASK, messages: [{ role: "user", content: "" }] }, HEADERS, /must be non-empty/],
    [
      { ...ASK, messages: [...ASK.messages, { role: "assistant", content: "Sure " }] },
      HEADERS,
      /cannot end with trailing whitespace/,
    ],
    [
      {
        ...ASK,
        messages: [
          ...ASK.messages,
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
          { role: "user", content: "No result given" },
        ],
      },
      HEADERS,
      /`tool_use` ids were found without `tool_result` blocks immediately after: t1/,
    ],
    [
      {
        ...ASK,
        messages: [{
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "ghost", content: "x" }],
        }],
      },
      HEADERS,
      /unexpected `tool_use_id` found in `tool_result` blocks: ghost/,
    ],
    [
      { ...ASK, temperature: 1 },
      { ...HEADERS, "anthropic-version": "2026-10-21" },
      /^temperature: Extra inputs are not permitted$/,
    ],
  ];
  for (const [body, headers, message] of cases) {
    const [status, type, text] = await failure(await post(sim, body, headers));
    assert.equal(status, 400, String(message));
    assert.equal(type, "invalid_request_error");
    assert.match(text, message);
  }
  const accepted = await post(sim, { ...ASK, temperature: 0.3 });
  assert.equal(accepted.status, 200, "version 2023-06-01 still takes temperature");
  await accepted.body?.cancel();
});

Deno.test("anthropic sim: the key is read from x-api-key or a Bearer token", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const version = { "anthropic-version": "2023-06-01" };
  const bearer = await post(sim, ASK, { ...version, authorization: `Bearer ${KEY}` });
  assert.equal(bearer.status, 200);
  await bearer.body?.cancel();
  assert.deepEqual(await failure(await post(sim, ASK, version)), [
    401,
    "authentication_error",
    "x-api-key header is required",
  ]);
  const wrong = await failure(await post(sim, ASK, { ...version, "x-api-key": "nope" }));
  assert.deepEqual(wrong.slice(0, 2), [401, "authentication_error"]);
});

Deno.test("anthropic sim: a repeated long prefix is written to the cache, then read", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const system = Array.from({ length: 200 }, (_, i) => `Policy line ${i}: prefer healthy routes.`)
    .join("\n");
  const ask = async (content: string) =>
    (await (await post(sim, { ...ASK, system, messages: [{ role: "user", content }] })).json())
      .usage;
  const first = await ask("First question");
  const second = await ask("Second question");
  assert.ok(first.cache_creation_input_tokens >= 1024);
  assert.equal(first.cache_read_input_tokens, 0);
  assert.equal(second.cache_creation_input_tokens, 0);
  assert.ok(second.cache_read_input_tokens >= 1024);
  assert.ok(second.input_tokens < first.input_tokens + first.cache_creation_input_tokens);
});

Deno.test("anthropic sim: a stop sequence ends the answer before it", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const body = await (await post(sim, {
    ...ASK,
    messages: [{ role: "user", content: "alpha beta gamma delta" }],
    stop_sequences: [" gamma"],
  })).json();
  assert.equal(body.stop_reason, "stop_sequence");
  assert.equal(body.stop_sequence, " gamma");
  assert.match(body.content[0].text, /alpha beta$/);
});

Deno.test("anthropic sim: a prompt beyond the context window is too long", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const huge = "route ".repeat(210_000);
  const [status, type, message] = await failure(
    await post(sim, { ...ASK, messages: [{ role: "user", content: huge }] }),
  );
  assert.equal(status, 400);
  assert.equal(type, "invalid_request_error");
  assert.match(message, /^prompt is too long: \d+ tokens > 200000 maximum$/);
});

Deno.test("anthropic sim: unknown paths are not_found_error", async () => {
  await using sim = await startSimulator(createAnthropicSimulator, FAST);
  const response = await fetch(`${sim.origin}/v1/complete`, { method: "POST", headers: HEADERS });
  assert.deepEqual((await failure(response)).slice(0, 2), [404, "not_found_error"]);
});
