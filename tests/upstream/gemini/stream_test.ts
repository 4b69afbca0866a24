/** Stream translation: Gemini `data:` events (each a whole response) → OpenAI chunks. */
import assert from "node:assert/strict";
import { geminiAdapter } from "../../../src/upstream/gemini/index.ts";
import type { StreamEvent, UpstreamTarget } from "../../../src/upstream/adapter.ts";
import type { SseEvent } from "../../../src/upstream/sse.ts";
import type { ChatChunk } from "../../../src/upstream/types.ts";

const TARGET: UpstreamTarget = {
  route: "test",
  provider: "gemini",
  model: "gemini-2.5-flash",
  baseUrl: "http://127.0.0.1:9/v1beta",
  apiKey: "k",
};

async function run(events: (unknown | SseEvent)[], includeUsage = true): Promise<StreamEvent[]> {
  const sse = events.map((e): SseEvent =>
    typeof e === "object" && e !== null && "data" in e ? e as SseEvent : { data: JSON.stringify(e) }
  );
  const out: StreamEvent[] = [];
  const stream = ReadableStream.from(sse).pipeThrough(
    geminiAdapter.stream(TARGET, { includeUsage }),
  );
  for await (const event of stream) out.push(event);
  return out;
}

const chunks = (events: StreamEvent[]): ChatChunk[] =>
  events.flatMap((e) => e.type === "chunk" ? [JSON.parse(e.data)] : []);

const piece = (text: string, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts: [{ text }] }, index: 0, ...extra }],
  usageMetadata: { promptTokenCount: 10, totalTokenCount: 10 },
  modelVersion: "gemini-2.5-flash",
  responseId: "r-1",
});

Deno.test("gemini stream: pieces become deltas, then finish, usage and done", async () => {
  const events = await run([
    { comment: "keep-alive", data: "" },
    piece("Hel"),
    piece("lo"),
    {
      ...piece("", { finishReason: "STOP" }),
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 2, totalTokenCount: 12 },
    },
  ]);
  const out = chunks(events);
  assert.deepEqual(out.map((c) => c.choices[0]?.delta ?? null), [
    { role: "assistant", content: "Hel" },
    { content: "lo" },
    {},
    null,
  ]);
  assert.ok(out.every((c) => c.id === "r-1" && c.object === "chat.completion.chunk"));
  assert.equal(out[2].choices[0].finish_reason, "stop");
  assert.deepEqual(out[3].choices, []);
  assert.equal(out[3].usage?.completion_tokens, 2);
  const usage = events.find((e) => e.type === "chunk" && e.usageOnly);
  assert.equal(usage?.type === "chunk" && usage.usage?.input_tokens, 10);
  assert.deepEqual(events.map((e) => e.type === "chunk" ? e.content : e.type), [
    true,
    true,
    false,
    false,
    "done",
  ]);
});

Deno.test("gemini stream: without includeUsage no usage chunk is sent", async () => {
  const events = await run([piece("Hi", { finishReason: "STOP" })], false);
  assert.ok(!chunks(events).some((c) => c.choices.length === 0));
  assert.deepEqual(events.at(-1), { type: "done" });
});

Deno.test("gemini stream: a stream that ends before finishReason is not done", async () => {
  const events = await run([piece("Hel"), piece("lo")]);
  assert.equal(events.length, 2);
  assert.ok(!events.some((e) => e.type === "done"));
});

Deno.test("gemini stream: a function call is one tool call delta with full arguments", async () => {
  const events = await run([{
    candidates: [{
      content: {
        role: "model",
        parts: [{
          functionCall: { name: "get_weather", args: { city: "Porto" } },
          thoughtSignature: "c2ln",
        }],
      },
      finishReason: "STOP",
    }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 6, totalTokenCount: 16 },
  }]);
  const [call, finish] = chunks(events);
  const delta = call.choices[0].delta.tool_calls![0];
  assert.equal(delta.index, 0);
  assert.match(delta.id ?? "", /^call_/);
  assert.deepEqual(delta.function, { name: "get_weather", arguments: '{"city":"Porto"}' });
  assert.deepEqual((delta as { extra_content?: unknown }).extra_content, {
    google: { thought_signature: "c2ln" },
  });
  assert.equal(finish.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(events.at(-1), { type: "done" });
});

Deno.test("gemini stream: an error event ends the translation with an error", async () => {
  const events = await run([
    piece("Partial"),
    { error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } },
    piece("ignored", { finishReason: "STOP" }),
  ]);
  assert.equal(events.length, 2);
  const last = events[1];
  assert.equal(last.type, "error");
  assert.equal(last.type === "error" && last.error.kind, "error_in_body");
  assert.equal(last.type === "error" && last.error.providerCode, "UNAVAILABLE");
});

Deno.test("gemini stream: an event that is not JSON is malformed", async () => {
  const events = await run([{ data: '{"candidates": [' }]);
  assert.equal(events.length, 1);
  assert.equal(events[0].type === "error" && events[0].error.kind, "malformed");
});

Deno.test("gemini stream: a blocked prompt is one content_filter chunk and done", async () => {
  const events = await run([{
    promptFeedback: { blockReason: "SAFETY" },
    usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
  }]);
  const out = chunks(events);
  assert.equal(out[0].choices[0].finish_reason, "content_filter");
  assert.deepEqual(out[1].choices, []);
  assert.deepEqual(events.at(-1), { type: "done" });
});

Deno.test("gemini stream: several candidates each get their role, finish and index", async () => {
  const both = (a: string, b: string, finishReason?: string) => ({
    candidates: [0, 1].map((index) => ({
      content: { role: "model", parts: [{ text: index === 0 ? a : b }] },
      index,
      ...(finishReason ? { finishReason } : {}),
    })),
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
  });
  const events = await run([both("A", "B"), both("a", "b", "STOP")]);
  const out = chunks(events);
  const deltas = out.flatMap((c) =>
    c.choices.map((ch) => [ch.index, ch.delta.role ?? "", ch.delta.content ?? ""])
  );
  assert.deepEqual(deltas.filter(([, , text]) => text !== ""), [
    [0, "assistant", "A"],
    [1, "assistant", "B"],
    [0, "", "a"],
    [1, "", "b"],
  ]);
  assert.deepEqual(
    events.flatMap((e) => e.type === "chunk" && e.finishReason ? [e.finishReason] : []),
    [
      "stop",
      "stop",
    ],
  );
  assert.deepEqual(events.at(-1), { type: "done" });
});
