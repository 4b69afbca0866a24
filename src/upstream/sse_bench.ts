/**
 * `deno task bench`: the floor under every adapter's stream benchmark. The same 20-event
 * OpenAI-style body drained raw, through `SseParser` alone, and through `SseParser` and an
 * identity `TransformStream`, so `<provider>/translate_bench.ts` numbers can be split into Web
 * Streams plumbing, SSE parsing, and the adapter's own translation.
 */
import { type RecordedEvent, recordSse } from "./bench_fixtures.ts";
import { type SseEvent, SseParser } from "./sse.ts";

const head = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1, model: "m" };
const EVENTS: RecordedEvent[] = [
  ...Array.from({ length: 19 }, (_, i) => ({
    data: {
      ...head,
      choices: [{
        index: 0,
        delta: { content: ` token${i}` },
        logprobs: null,
        finish_reason: null,
      }],
      usage: null,
    },
  })),
  { data: "[DONE]" },
];
const BODY = recordSse(EVENTS);

async function drain(stream: ReadableStream<unknown>): Promise<void> {
  for await (const _ of stream) {
    // consume
  }
}

Deno.bench(
  "sse: 20 reads drained raw (Web Streams only)",
  { group: "sse", baseline: true },
  async () => {
    await drain(ReadableStream.from(BODY));
  },
);

Deno.bench("sse: 20 reads through SseParser", { group: "sse" }, async () => {
  await drain(ReadableStream.from(BODY).pipeThrough(new SseParser()));
});

Deno.bench(
  "sse: 20 reads through SseParser and an identity transform",
  { group: "sse" },
  async () => {
    await drain(
      ReadableStream.from(BODY).pipeThrough(new SseParser()).pipeThrough(
        new TransformStream<SseEvent, SseEvent>(),
      ),
    );
  },
);
