/**
 * Conformance cases for answers: text, turns, streams, limits, tools, images and prompt caching.
 */
import assert from "node:assert/strict";
import type { ChatRequest, Tool } from "../../src/upstream/types.ts";
import type { ConformanceSpec } from "./conformance.ts";
import {
  finishReasons,
  startHarness,
  streamedText,
  streamedToolCalls,
} from "./conformance_client.ts";

const HELLO: ChatRequest = {
  model: "client-model",
  messages: [{ role: "user", content: "Say hello to the conformance suite" }],
};

const WEATHER: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
      required: ["city"],
    },
  },
};

/** A 1x1 transparent PNG. */
const PIXEL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** A system prompt far above the 1024-token caching threshold. */
const LONG_SYSTEM = Array.from(
  { length: 160 },
  (_, i) => `Rule ${i + 1}: route requests by latency, budget and provider health before cost.`,
).join("\n");

/** Registers the answer cases for `spec`. */
export function registerChatCases(spec: ConformanceSpec): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`${spec.name} conformance: ${name}`, fn);

  test("a plain request gets text, finish reason stop and normalized usage", async () => {
    await using h = await startHarness(spec);
    const { response, usage, raw } = await h.complete(HELLO);
    const choice = response.choices[0];
    assert.equal(response.object, "chat.completion");
    assert.equal(response.model, spec.model);
    assert.equal(choice.message.role, "assistant");
    assert.match(choice.message.content ?? "", /hello to the conformance suite/);
    assert.equal(choice.finish_reason, "stop");
    assert.ok(usage && usage.input_tokens > 0 && usage.output_tokens > 0, "usage is reported");
    assert.equal(response.usage?.prompt_tokens, usage.input_tokens);
    assert.equal(response.usage?.completion_tokens, usage.output_tokens);
    if (raw !== undefined) {
      assert.equal(JSON.parse(raw).choices[0].message.content, choice.message.content);
    }
  });

  test("a multi-turn conversation with a system message answers the last turn", async () => {
    await using h = await startHarness(spec);
    const last = { role: "user" as const, content: "Now describe the fallback order" };
    const turns = await h.complete({
      model: "client-model",
      messages: [
        { role: "system", content: "You are a terse routing assistant." },
        { role: "user", content: "Which provider is fastest today?" },
        { role: "assistant", content: "The direct route is fastest." },
        last,
      ],
    });
    const alone = await h.complete({ model: "client-model", messages: [last] });
    const text = turns.response.choices[0].message.content ?? "";
    assert.match(text, /describe the fallback order/);
    assert.doesNotMatch(text, /fastest today/);
    assert.ok(
      turns.usage!.input_tokens > alone.usage!.input_tokens,
      "the system message and earlier turns were sent",
    );
  });

  test("a stream yields ordered chunks that add up to the non-streaming answer", async () => {
    await using h = await startHarness(spec);
    const whole = await h.complete(HELLO);
    const { events, chunks, failure } = await h.stream(HELLO);
    assert.equal(failure, undefined);
    assert.ok(chunks.length >= 3, `expected several chunks, got ${chunks.length}`);
    for (const chunk of chunks) assert.equal(chunk.object, "chat.completion.chunk");
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "every chunk has the same id");
    assert.equal(chunks[0].choices[0]?.delta.role, "assistant");
    assert.equal(streamedText(chunks), whole.response.choices[0].message.content);
    assert.deepEqual(finishReasons(events), ["stop"]);
    const usage = events.flatMap((e) => e.type === "chunk" && e.usage ? [e.usage] : []);
    assert.equal(usage.length, 1, "exactly one chunk carries usage");
    assert.ok(usage[0].input_tokens > 0 && usage[0].output_tokens > 0);
    assert.equal(usage[0].output_tokens, whole.usage!.output_tokens);
    const contentEvents = events.filter((e) => e.type === "chunk" && e.content);
    assert.ok(contentEvents.length >= 2, "content chunks are marked as content");
    assert.deepEqual(events.at(-1), { type: "done" });
  });

  test("max_tokens cuts the answer with finish reason length", async () => {
    await using h = await startHarness(spec);
    const limited = { ...HELLO, max_tokens: 4 };
    const { response, usage } = await h.complete(limited);
    assert.equal(response.choices[0].finish_reason, "length");
    assert.ok(usage!.output_tokens <= 4);
    const { events } = await h.stream(limited);
    assert.deepEqual(finishReasons(events), ["length"]);
  });

  test("offered a tool, the model calls it with valid JSON arguments", async () => {
    await using h = await startHarness(spec);
    const req: ChatRequest = {
      model: "client-model",
      messages: [{ role: "user", content: "What is the weather in Lisbon?" }],
      tools: [WEATHER],
    };
    const { response } = await h.complete(req);
    const call = response.choices[0].message.tool_calls?.[0];
    assert.equal(response.choices[0].finish_reason, "tool_calls");
    assert.equal(call?.type, "function");
    assert.equal(call?.function.name, "get_weather");
    assert.ok(call?.id, "the call has an id");
    assert.equal(typeof JSON.parse(call!.function.arguments).city, "string");
  });

  test("a streamed tool call rebuilds into valid JSON arguments", async () => {
    await using h = await startHarness(spec);
    const { events, chunks } = await h.stream({
      model: "client-model",
      messages: [{ role: "user", content: "What is the weather in Porto?" }],
      tools: [WEATHER],
    });
    const calls = streamedToolCalls(chunks);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].function.name, "get_weather");
    assert.ok(calls[0].id, "the call has an id");
    assert.equal(typeof JSON.parse(calls[0].function.arguments).city, "string");
    assert.deepEqual(finishReasons(events), ["tool_calls"]);
    assert.deepEqual(events.at(-1), { type: "done" });
  });

  test("a tool result turn gets a text answer", async () => {
    await using h = await startHarness(spec);
    const { response } = await h.complete({
      model: "client-model",
      tools: [WEATHER],
      messages: [
        { role: "user", content: "What is the weather in Lisbon?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Lisbon"}' },
          }],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"temperature_c":21,"sky":"clear"}' },
      ],
    });
    assert.equal(response.choices[0].finish_reason, "stop");
    assert.ok((response.choices[0].message.content ?? "").length > 0);
    assert.equal(response.choices[0].message.tool_calls, undefined);
  });

  if (spec.images !== false) {
    test("an image input is accepted and counted as input", async () => {
      await using h = await startHarness(spec);
      const text = "Describe this picture briefly";
      const withImage = await h.complete({
        model: "client-model",
        messages: [{
          role: "user",
          content: [{ type: "text", text }, { type: "image_url", image_url: { url: PIXEL } }],
        }],
      });
      const without = await h.complete({
        model: "client-model",
        messages: [{ role: "user", content: text }],
      });
      assert.equal(withImage.response.choices[0].finish_reason, "stop");
      assert.ok(withImage.usage!.input_tokens > without.usage!.input_tokens);
    });
  }

  if (spec.promptCaching !== false) {
    test("a repeated long prefix is reported as cached input tokens", async () => {
      await using h = await startHarness(spec);
      const ask = (content: string): ChatRequest => ({
        model: "client-model",
        messages: [{ role: "system", content: LONG_SYSTEM }, { role: "user", content }],
      });
      const first = await h.complete(ask("Route the first request"));
      const second = await h.complete(ask("Route the second request"));
      assert.equal(first.usage!.cached_input_tokens, 0);
      assert.ok(second.usage!.cached_input_tokens >= 1024, "the prefix was cached");
      assert.ok(second.usage!.input_tokens >= second.usage!.cached_input_tokens);
    });
  }
}
