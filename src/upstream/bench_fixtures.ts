/**
 * What the adapter micro-benchmarks (`<provider>/translate_bench.ts`) share: one realistic
 * canonical request (an agent turn with tools and a tool call already answered), a target, and a
 * way to replay a recorded SSE body through `SseParser` and an adapter's `stream()` transform the
 * way `routing/` does. Provider payloads live in each provider's bench file.
 */
import type { Adapter, ProviderName, StreamEvent, UpstreamTarget } from "./adapter.ts";
import { SseDecoder, type SseEvent, SseParser } from "./sse.ts";
import { type ChatRequest, ChatRequestSchema } from "./types.ts";

/** A coding-agent turn: system prompt, two tools, one call answered, a follow-up question. */
export const BENCH_REQUEST: ChatRequest = ChatRequestSchema.parse({
  model: "auto",
  messages: [
    {
      role: "system",
      content: "You are a careful coding assistant. Use the tools to read files before " +
        "answering, cite file paths, and keep answers under 200 words.",
    },
    { role: "user", content: "Why does the retry loop in src/net/retry.ts never give up?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_8fJ2kQ1xVb",
        type: "function",
        function: {
          name: "read_file",
          arguments: '{"path":"src/net/retry.ts","start":1,"end":80}',
        },
      }],
    },
    {
      role: "tool",
      tool_call_id: "call_8fJ2kQ1xVb",
      content: "export async function retry(fn, opts) {\n  let attempt = 0;\n  while (true) {\n" +
        "    try { return await fn(); } catch (e) {\n      attempt++;\n" +
        "      await sleep(backoff(attempt));\n    }\n  }\n}",
    },
    {
      role: "user",
      content: [
        { type: "text", text: "And where is maxAttempts supposed to be read? Search for it." },
      ],
    },
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "read_file",
        description: "Read a range of lines from a file in the repository.",
        parameters: {
          type: "object",
          properties: {
            path: { type: "string", description: "Path relative to the repository root" },
            start: { type: "integer", minimum: 1 },
            end: { type: "integer", minimum: 1 },
          },
          required: ["path"],
          additionalProperties: false,
        },
      },
    },
    {
      type: "function",
      function: {
        name: "search_code",
        description: "Search the repository for a regular expression.",
        parameters: {
          type: "object",
          properties: {
            pattern: { type: "string" },
            glob: { type: "string", description: "Only files matching this glob" },
          },
          required: ["pattern"],
          additionalProperties: false,
        },
      },
    },
  ],
  tool_choice: "auto",
  temperature: 0.2,
  max_completion_tokens: 1024,
  user: "user-4821",
});

/** The same request, streamed with usage. */
export const BENCH_STREAM_REQUEST: ChatRequest = {
  ...BENCH_REQUEST,
  stream: true,
  stream_options: { include_usage: true },
};

/** A target on a loopback base URL; adapters never do I/O, so it is never called. */
export function benchTarget(provider: ProviderName, model: string): UpstreamTarget {
  return { route: "bench", provider, model, baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-bench" };
}

/** One recorded SSE event: a named or unnamed `data:` (objects are JSON-encoded), or a comment. */
export type RecordedEvent = { event?: string; data: unknown } | { comment: string };

/** Encodes recorded events as the network delivers them: one read per event. */
export function recordSse(events: RecordedEvent[]): Uint8Array[] {
  const encoder = new TextEncoder();
  return events.map((e) => {
    if ("comment" in e) return encoder.encode(`: ${e.comment}\n\n`);
    const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
    return encoder.encode(e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
  });
}

/**
 * Feeds recorded bytes through `SseParser` and a stream transform and returns the events out, so
 * a benchmark measures parsing and translation together, as served.
 */
export async function replaySse(
  body: Uint8Array[],
  transform: TransformStream<SseEvent, StreamEvent>,
): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (
    const event of ReadableStream.from(body).pipeThrough(new SseParser()).pipeThrough(transform)
  ) {
    out.push(event);
  }
  return out;
}

/**
 * Throws unless a replayed stream ended complete, without errors, and carried content: a
 * benchmark of a stream that fails early would measure the error path.
 */
export function assertCompleteStream(events: StreamEvent[], label: string): void {
  const error = events.find((e) => e.type === "error");
  if (error?.type === "error") throw new Error(`${label}: stream failed: ${error.error.message}`);
  if (events.at(-1)?.type !== "done") throw new Error(`${label}: stream did not end with done`);
  const chunks = events.filter((e) => e.type === "chunk");
  if (!chunks.some((e) => e.type === "chunk" && e.content)) {
    throw new Error(`${label}: stream carried no content`);
  }
  if (!chunks.some((e) => e.type === "chunk" && e.usage)) {
    throw new Error(`${label}: stream carried no usage`);
  }
}

/**
 * Registers the benchmarks every adapter has — request, response and stream translation, the
 * stream both as the server drives it (SseDecoder → translator, plain calls) and through the
 * TransformStream form — after checking that the recorded stream translates whole.
 */
export async function benchAdapter(
  name: string,
  adapter: Adapter,
  fixtures: {
    target: UpstreamTarget;
    response: string;
    stream: Uint8Array[];
    requestLabel: string;
    responseLabel: string;
  },
): Promise<void> {
  const options = { includeUsage: true };
  const { target, stream } = fixtures;
  assertCompleteStream(await replaySse(stream, adapter.stream(target, options)), name);
  Deno.bench(`${name}: request translation (${fixtures.requestLabel})`, { group: name }, () => {
    adapter.request(BENCH_REQUEST, target, options);
  });
  Deno.bench(`${name}: response translation (${fixtures.responseLabel})`, { group: name }, () => {
    adapter.response(fixtures.response, target);
  });
  Deno.bench(`${name}: 20-event stream, SseDecoder → translator (as served)`, {
    group: name,
  }, () => {
    const decoder = new SseDecoder();
    const translator = adapter.translator(target, options);
    const out: StreamEvent[] = [];
    const onEvent = (event: SseEvent) => translator.push(event, (e) => out.push(e));
    for (const chunk of stream) decoder.push(chunk, onEvent);
    decoder.end(onEvent);
    translator.end((e) => out.push(e));
  });
  Deno.bench(`${name}: 20-event stream through SseParser → stream()`, { group: name }, async () => {
    await replaySse(stream, adapter.stream(target, options));
  });
}
