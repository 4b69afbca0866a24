import assert from "node:assert/strict";
import { openaiAdapter } from "../../../src/upstream/openai/index.ts";
import type { StreamEvent, UpstreamTarget } from "../../../src/upstream/adapter.ts";
import type { SseEvent } from "../../../src/upstream/sse.ts";

const TARGET: UpstreamTarget = {
  route: "r",
  provider: "openai",
  model: "m",
  baseUrl: "http://x",
  apiKey: "",
};

async function translate(events: SseEvent[]): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  const stream = ReadableStream.from(events)
    .pipeThrough(openaiAdapter.stream(TARGET, { includeUsage: true }));
  for await (const event of stream) out.push(event);
  return out;
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });

Deno.test("openai stream: content chunks pass through as the upstream's own bytes", async () => {
  const data = [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: 'lo \\"usage\\": {' }),
    chunk({ content: "" }),
  ];
  const events = await translate(data.map((d) => ({ data: d })));
  assert.deepEqual(events.map((e) => e.type === "chunk" && e.data), data);
  assert.deepEqual(events.map((e) => e.type === "chunk" && e.content), [false, true, true, false]);
  const first = events[0];
  assert.ok(first.type === "chunk" && first.responseId === "c1");
  assert.equal(first.type === "chunk" && first.responseModel, "gpt-4o-mini");
});

Deno.test("openai stream: finish, usage-only chunk and [DONE] are read", async () => {
  const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
  const events = await translate([
    { data: chunk({ content: "Hi" }) },
    {
      data: JSON.stringify({
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
        usage: null,
      }),
    },
    { data: JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage }) },
    { data: "[DONE]" },
  ]);
  assert.equal(events[1].type === "chunk" && events[1].finishReason, "stop");
  const usageChunk = events[2];
  assert.ok(usageChunk.type === "chunk" && usageChunk.usageOnly);
  assert.equal(usageChunk.usage?.output_tokens, 7);
  assert.deepEqual(events[3], { type: "done" });
});

Deno.test("openai stream: usage riding on the finishing chunk is split off (Mistral)", async () => {
  const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
  const events = await translate([
    { data: chunk({ content: "Hi" }) },
    {
      data: JSON.stringify({
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: { content: "" }, finish_reason: "model_length" }],
        usage,
      }),
    },
    { data: "[DONE]" },
  ]);
  const [, finish, split] = events;
  assert.ok(finish.type === "chunk" && split.type === "chunk");
  assert.equal(finish.finishReason, "length");
  assert.equal(finish.usage, undefined);
  assert.equal(JSON.parse(finish.data).usage, undefined);
  assert.equal(JSON.parse(finish.data).choices[0].finish_reason, "length");
  assert.ok(split.usageOnly);
  assert.deepEqual(JSON.parse(split.data).choices, []);
  assert.equal(split.usage?.input_tokens, 5);
});

Deno.test("openai stream: comments are dropped and an error event ends the stream", async () => {
  const events = await translate([
    { data: "", comment: "OPENROUTER PROCESSING" },
    { data: chunk({ content: "Hi" }) },
    { data: chunk({ content: "" }, { error: { code: 502, message: "Provider died" } }) },
    { data: chunk({ content: "late" }) },
    { data: "[DONE]" },
  ]);
  assert.equal(events.length, 2);
  const error = events[1];
  assert.ok(error.type === "error");
  assert.equal(error.error.kind, "error_in_body");
  assert.equal(error.error.message, "Provider died");
  assert.equal(error.error.providerCode, "502");
});

Deno.test("openai stream: a flat error object after content is still caught", async () => {
  const events = await translate([
    { data: chunk({ content: "Hi" }) },
    { data: '{"object":"error","message":"Internal server error","type":"internal"}' },
  ]);
  assert.equal(events[1].type, "error");
});

Deno.test("openai stream: a non-JSON event is malformed", async () => {
  const events = await translate([{ data: "<html>oops</html>" }]);
  assert.ok(events[0].type === "error" && events[0].error.kind === "malformed");
});

Deno.test("openai stream: tool call deltas count as content and object arguments become text", async () => {
  const events = await translate([
    {
      data: chunk({
        tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: { a: 1 } } }],
      }),
    },
    { data: chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }) },
  ]);
  assert.ok(events.every((e) => e.type === "chunk" && e.content));
  const first = events[0];
  assert.ok(first.type === "chunk");
  assert.equal(JSON.parse(first.data).choices[0].delta.tool_calls[0].function.arguments, '{"a":1}');
});
