/**
 * The OpenAI stream transform passes most chunks through unparsed. This compares it with the
 * obvious alternative, parsing and re-serializing every chunk, over a 400-chunk answer.
 */
import type { SseEvent } from "../sse.ts";
import { openaiAdapter } from "./index.ts";

const TARGET = {
  route: "bench",
  provider: "openai" as const,
  model: "gpt-4o-mini",
  baseUrl: "http://bench",
  apiKey: "",
};
const head = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1, model: "gpt-4o" };
const EVENTS: SseEvent[] = [
  {
    data: JSON.stringify({
      ...head,
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
      usage: null,
    }),
  },
  ...Array.from({ length: 400 }, (_, i) => ({
    data: JSON.stringify({
      ...head,
      service_tier: "default",
      system_fingerprint: "fp_1",
      choices: [{
        index: 0,
        delta: { content: ` token${i}` },
        logprobs: null,
        finish_reason: null,
      }],
      usage: null,
      obfuscation: "a1b2c3",
    }),
  })),
  {
    data: JSON.stringify({
      ...head,
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage: null,
    }),
  },
  {
    data: JSON.stringify({
      ...head,
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 400, total_tokens: 409 },
    }),
  },
  { data: "[DONE]" },
];

async function drain(transform: TransformStream<SseEvent, unknown>): Promise<void> {
  for await (const _ of ReadableStream.from(EVENTS).pipeThrough(transform)) {
    // consume
  }
}

Deno.bench(
  "openai stream: pass-through of unparsed chunks",
  { group: "stream", baseline: true },
  async () => {
    await drain(openaiAdapter.stream(TARGET, { includeUsage: true }));
  },
);

Deno.bench("openai stream: parse and re-serialize every chunk", { group: "stream" }, async () => {
  await drain(
    new TransformStream<SseEvent, unknown>({
      transform(event, controller) {
        if (event.data === "[DONE]") return controller.enqueue({ type: "done" });
        const chunk = JSON.parse(event.data);
        controller.enqueue({
          type: "chunk",
          data: JSON.stringify(chunk),
          content: !!chunk.choices[0]?.delta?.content,
        });
      },
    }),
  );
});
