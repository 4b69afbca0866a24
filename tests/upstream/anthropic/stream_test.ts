import assert from "node:assert/strict";
import { anthropicAdapter } from "../../../src/upstream/anthropic/index.ts";
import type { StreamEvent, UpstreamTarget } from "../../../src/upstream/adapter.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";
import { SseParser } from "../../../src/upstream/sse.ts";
import type { ChatChunk } from "../../../src/upstream/types.ts";

const TARGET: UpstreamTarget = {
  route: "claude",
  provider: "anthropic",
  model: "claude-sonnet-5-5",
  baseUrl: "https://api.anthropic.com/v1",
  apiKey: "k",
};

function sse(events: Record<string, unknown>[]): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

/** A text block, then a tool_use block (content index 1, tool call index 0), as the docs show. */
const TEXT_THEN_TOOL = sse([
  {
    type: "message_start",
    message: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      content: [],
      model: "claude-sonnet-5-5-20261001",
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 2048,
        output_tokens: 1,
      },
    },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me " } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "check." } },
  { type: "content_block_stop", index: 0 },
  {
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} },
  },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } },
  {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: '{"city": "Lis' },
  },
  {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: 'bon"}' },
  },
  { type: "content_block_stop", index: 1 },
  {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 57 },
  },
  { type: "message_stop" },
]);

async function translate(text: string, includeUsage = true): Promise<StreamEvent[]> {
  const bytes = new Blob([text]).stream();
  const events: StreamEvent[] = [];
  for await (
    const event of bytes.pipeThrough(new SseParser()).pipeThrough(
      anthropicAdapter.stream(TARGET, { includeUsage }),
    )
  ) events.push(event);
  return events;
}

function chunks(events: StreamEvent[]): ChatChunk[] {
  return events.flatMap((e) => e.type === "chunk" ? [JSON.parse(e.data) as ChatChunk] : []);
}

Deno.test("anthropic stream: text and tool_use blocks become OpenAI deltas in order", async () => {
  const events = await translate(TEXT_THEN_TOOL);
  const out = chunks(events);
  assert.deepEqual(out.map((c) => c.choices[0]?.delta ?? "usage"), [
    { role: "assistant", content: "" },
    { content: "Let me " },
    { content: "check." },
    {
      tool_calls: [{
        index: 0,
        id: "toolu_01",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      }],
    },
    { tool_calls: [{ index: 0, function: { arguments: '{"city": "Lis' } }] },
    { tool_calls: [{ index: 0, function: { arguments: 'bon"}' } }] },
    {},
    "usage",
  ]);
  for (const chunk of out) {
    assert.equal(chunk.id, "msg_01");
    assert.equal(chunk.model, "claude-sonnet-5-5-20261001");
    assert.equal(chunk.object, "chat.completion.chunk");
  }
  assert.equal(out[6].choices[0].finish_reason, "tool_calls");
  assert.deepEqual(events.at(-1), { type: "done" });
  assert.deepEqual(
    events.map((e) => e.type === "chunk" ? e.content : e.type),
    [false, true, true, true, true, true, false, false, "done"],
  );
});

Deno.test("anthropic stream: the usage chunk counts cache reads as prompt tokens", async () => {
  const events = await translate(TEXT_THEN_TOOL);
  const usageEvent = events.find((e) => e.type === "chunk" && e.usageOnly);
  assert.ok(usageEvent?.type === "chunk");
  assert.deepEqual(usageEvent.usage, {
    input_tokens: 2088,
    output_tokens: 57,
    cached_input_tokens: 2048,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
  });
  const chunk = JSON.parse(usageEvent.data) as ChatChunk;
  assert.deepEqual(chunk.choices, []);
  assert.equal(chunk.usage?.prompt_tokens, 2088);
  assert.equal(chunk.usage?.total_tokens, 2145);
  assert.equal(chunk.usage?.prompt_tokens_details?.cached_tokens, 2048);
});

Deno.test("anthropic stream: without includeUsage no usage chunk is sent", async () => {
  const events = await translate(TEXT_THEN_TOOL, false);
  assert.ok(!events.some((e) => e.type === "chunk" && (e.usage || e.usageOnly)));
  assert.ok(chunks(events).every((c) => c.choices.length === 1));
});

Deno.test("anthropic stream: message_delta usage overrides message_start's totals", async () => {
  const events = await translate(sse([
    {
      type: "message_start",
      message: { id: "m", model: "c", usage: { input_tokens: 10, output_tokens: 1 } },
    },
    {
      type: "message_delta",
      delta: { stop_reason: "max_tokens" },
      usage: { input_tokens: 12, cache_creation_input_tokens: 1500, output_tokens: 9 },
    },
    { type: "message_stop" },
  ]));
  const usage = events.flatMap((e) => e.type === "chunk" && e.usage ? [e.usage] : [])[0];
  assert.equal(usage.input_tokens, 1512);
  assert.equal(usage.cache_write_tokens, 1500);
  assert.equal(usage.output_tokens, 9);
  assert.deepEqual(
    events.flatMap((e) => e.type === "chunk" && e.finishReason ? [e.finishReason] : []),
    [
      "length",
    ],
  );
});

Deno.test("anthropic stream: an error event becomes an error_in_body error, and nothing after it", async () => {
  const events = await translate(
    sse([
      { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 5 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "late" } },
    ]),
  );
  const last = events.at(-1);
  assert.ok(last?.type === "error");
  assert.ok(last.error instanceof UpstreamError);
  assert.equal(last.error.kind, "error_in_body");
  assert.equal(last.error.providerCode, "overloaded_error");
  assert.equal(events.filter((e) => e.type === "chunk").length, 2);
});

Deno.test("anthropic stream: data that is not JSON is reported as malformed", async () => {
  const events = await translate("event: message_start\ndata: <html>oops</html>\n\n");
  assert.equal(events.length, 1);
  assert.ok(events[0].type === "error" && events[0].error.kind === "malformed");
});

Deno.test("anthropic stream: pings, thinking and unknown events produce nothing", async () => {
  const events = await translate(
    sse([
      { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 5 } } },
      { type: "ping" },
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hm" } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "x" } },
      { type: "content_block_stop", index: 0 },
      { type: "future_event_type", payload: 1 },
    ]) + ": keep-alive\n\n",
  );
  assert.equal(events.length, 1, "only the role chunk");
});

Deno.test("anthropic stream: each upstream event is translated before the next arrives", async () => {
  const transform = anthropicAdapter.stream(TARGET, { includeUsage: true });
  const writer = transform.writable.getWriter();
  const reader = transform.readable.getReader();
  const start = {
    type: "message_start",
    message: { id: "m", model: "c", usage: { input_tokens: 5 } },
  };
  writer.write({ event: "message_start", data: JSON.stringify(start) });
  const first = await reader.read();
  assert.ok(first.value?.type === "chunk");
  const delta = { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "A" } };
  writer.write({ event: "content_block_delta", data: JSON.stringify(delta) });
  const second = await reader.read();
  assert.ok(second.value?.type === "chunk" && second.value.content);
  await writer.close();
  assert.equal((await reader.read()).done, true);
});
