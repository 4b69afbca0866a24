/**
 * Warm-up at start: the request path's pure work (parsing, facts, the decision, building upstream
 * requests, reading OpenAI-format answers and stream chunks) is run on synthetic requests until
 * V8 has optimized it, before the first client arrives. Unoptimized, that work costs tens of
 * microseconds per request; optimized, a few. Nothing here touches the network or the ledger.
 */
import { buildFacts } from "../facts/facts.ts";
import { decide } from "../policy/decide.ts";
import type { ActivePolicy } from "../routing/runtime.ts";
import type { StreamEvent } from "../upstream/adapter.ts";
import { SseDecoder } from "../upstream/sse.ts";
import { readChatRequest } from "./request.ts";

const SAMPLE_REQUESTS = [
  JSON.stringify({
    model: "auto",
    max_tokens: 64,
    messages: [{ role: "user", content: "Say hello in five words." }],
  }),
  JSON.stringify({
    model: "auto",
    stream: true,
    temperature: 0.2,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the weather in Paris? Use the tool." },
    ],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
  }),
];

/** A chat.completion as OpenAI-format upstreams answer. */
const SAMPLE_RESPONSE = JSON.stringify({
  id: "chatcmpl-warmup",
  object: "chat.completion",
  created: 1,
  model: "warmup",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello there, how are you?" },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});

/** An OpenAI-format stream: role, content chunks, finish, usage, [DONE]. */
const SAMPLE_STREAM = new TextEncoder().encode(
  [
    { delta: { role: "assistant", content: "" }, finish_reason: null },
    { delta: { content: "Hello" }, finish_reason: null },
    { delta: { content: " there" }, finish_reason: null },
    { delta: {}, finish_reason: "stop" },
  ].map((choice) =>
    `data: ${
      JSON.stringify({
        id: "chatcmpl-warmup",
        object: "chat.completion.chunk",
        created: 1,
        model: "warmup",
        choices: [{ index: 0, ...choice }],
      })
    }\n\n`
  ).join("") +
    `data: ${
      JSON.stringify({
        id: "chatcmpl-warmup",
        object: "chat.completion.chunk",
        created: 1,
        model: "warmup",
        choices: [],
        usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
      })
    }\n\ndata: [DONE]\n\n`,
);

/**
 * Runs the request path's pure work on synthetic input for at most `budgetMs`. Adapters whose
 * wire format is not OpenAI's only warm their request side here; their answers warm up with
 * traffic.
 */
export async function warmUp(active: ActivePolicy, budgetMs = 150): Promise<number> {
  const deadline = performance.now() + budgetMs;
  const headers = new Headers({ "content-type": "application/json", "x-switchyard-tags": "" });
  const runtimes = Object.values(active.routes).filter((r) => r.available);
  const openAIFormat = runtimes.filter((r) =>
    r.adapter.genAiProviderName !== "anthropic" && r.adapter.genAiProviderName !== "gcp.gemini"
  );
  const sink: StreamEvent[] = [];
  let rounds = 0;
  while (performance.now() < deadline && rounds < 3000) {
    for (const text of SAMPLE_REQUESTS) {
      const { request, raw } = readChatRequest(text);
      const facts = buildFacts(request, { headers, routes: active.routeFacts });
      await decide(active.policy, facts, { stickyKey: String(rounds) });
      // As the server calls it: with the client's bytes when the request is them unchanged.
      for (const runtime of runtimes) {
        runtime.adapter.request(request, runtime.target, { includeUsage: true }, raw);
      }
    }
    for (const runtime of openAIFormat) {
      runtime.adapter.response(SAMPLE_RESPONSE, runtime.target);
      const translator = runtime.adapter.translator(runtime.target, { includeUsage: true });
      const decoder = new SseDecoder();
      sink.length = 0;
      decoder.push(SAMPLE_STREAM, (event) => translator.push(event, (out) => sink.push(out)));
      decoder.end((event) => translator.push(event, (out) => sink.push(out)));
    }
    rounds++;
  }
  return rounds;
}
