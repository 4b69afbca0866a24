/**
 * `deno task bench`: OpenRouter's request, response and stream translation for an agent turn with
 * tool calls, on a route with provider preferences and fallback models. The stream is a recorded
 * 20-event body as OpenRouter relays it (`: OPENROUTER PROCESSING` keep-alives, `provider` on
 * every chunk, usage with `cost`) fed through `SseParser` → `stream()`, as served.
 */
import { benchAdapter, benchTarget, type RecordedEvent, recordSse } from "../bench_fixtures.ts";
import { openrouterAdapter } from "./index.ts";

const target = {
  ...benchTarget("openrouter", "openai/gpt-4o-mini"),
  gateway: {
    provider: {
      order: ["openai", "azure"],
      allow_fallbacks: true,
      data_collection: "deny" as const,
    },
    models: ["anthropic/claude-haiku-4.5"],
  },
  app: { referer: "https://github.com/switchyard/switchyard", title: "Switchyard" },
};
const head = {
  id: "gen-1764031200-Zk3mQ8vR2pXc7LbN",
  provider: "OpenAI",
  model: "openai/gpt-4o-mini",
  object: "chat.completion.chunk",
  created: 1764031200,
  system_fingerprint: "fp_560af6e559",
};
const chunk = (delta: unknown, finish: string | null = null): RecordedEvent => ({
  data: {
    ...head,
    choices: [{
      index: 0,
      delta,
      finish_reason: finish,
      native_finish_reason: finish,
      logprobs: null,
    }],
  },
});
const words = ["Let", " me", " search", " for", " where", " maxAttempts", " is", " read", "."];
const fragments = ['{"pattern"', ':"maxAttempts', '","glob":"', 'src/**/*.ts"}'];
const usage = {
  prompt_tokens: 412,
  completion_tokens: 31,
  total_tokens: 443,
  cost: 0.0000804,
  is_byok: false,
  prompt_tokens_details: { cached_tokens: 256 },
  cost_details: { upstream_inference_cost: null },
  completion_tokens_details: { reasoning_tokens: 0 },
};

/** 20 events: 2 keep-alives, role, 9 text deltas, a tool call in 5 pieces, finish, usage, `[DONE]`. */
const STREAM: RecordedEvent[] = [
  { comment: "OPENROUTER PROCESSING" },
  { comment: "OPENROUTER PROCESSING" },
  chunk({ role: "assistant", content: "" }),
  ...words.map((content) => chunk({ role: "assistant", content })),
  chunk({
    role: "assistant",
    content: null,
    tool_calls: [{
      index: 0,
      id: "call_Qm3dX0a9LkT7",
      type: "function",
      function: { name: "search_code", arguments: "" },
    }],
  }),
  ...fragments.map((f) =>
    chunk({
      role: "assistant",
      content: null,
      tool_calls: [{ index: 0, function: { arguments: f } }],
    })
  ),
  chunk({ role: "assistant", content: "" }, "tool_calls"),
  { data: { ...head, choices: [], usage } },
  { data: "[DONE]" },
];
const STREAM_BODY = recordSse(STREAM);

const RESPONSE = JSON.stringify({
  id: head.id,
  provider: head.provider,
  model: head.model,
  object: "chat.completion",
  created: head.created,
  choices: [{
    logprobs: null,
    finish_reason: "tool_calls",
    native_finish_reason: "tool_calls",
    index: 0,
    message: {
      role: "assistant",
      content: words.join(""),
      refusal: null,
      reasoning: null,
      tool_calls: [{
        id: "call_Qm3dX0a9LkT7",
        index: 0,
        type: "function",
        function: { name: "search_code", arguments: fragments.join("") },
      }],
    },
  }],
  system_fingerprint: head.system_fingerprint,
  usage,
});

await benchAdapter("openrouter", openrouterAdapter, {
  target,
  response: RESPONSE,
  stream: STREAM_BODY,
  requestLabel: "tools, gateway options",
  responseLabel: "tool call, cost",
});
