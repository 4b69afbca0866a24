/**
 * `deno task bench`: OpenAI's request, response and stream translation for an agent turn with tool
 * calls. The stream is a recorded 20-event body (role, text, a tool call in fragments, finish,
 * usage, `[DONE]`) fed through `SseParser` → `stream()`, as served.
 */
import { benchAdapter, benchTarget, type RecordedEvent, recordSse } from "../bench_fixtures.ts";
import { openaiAdapter } from "./index.ts";

const target = benchTarget("openai", "gpt-4o-mini");
const id = "chatcmpl-CQ2bq9Zx7hLkV1mN3pR5sT8uW0yA";
const head = {
  id,
  object: "chat.completion.chunk",
  created: 1764031200,
  model: "gpt-4o-mini-2024-07-18",
  service_tier: "default",
  system_fingerprint: "fp_560af6e559",
};
const chunk = (delta: unknown, finish: string | null = null) => ({
  data: {
    ...head,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
  },
});
const words = ["Let", " me", " search", " for", " where", " maxAttempts", " is", " read", "."];
const fragments = ['{"pattern"', ':"maxAttempts', '","glob":"', 'src/**/*.ts"}'];

/** 20 events: role, 9 text deltas, a tool call in 5 pieces, finish, usage, `[DONE]`. */
const STREAM: RecordedEvent[] = [
  chunk({ role: "assistant", content: "", refusal: null }),
  ...words.map((w) => chunk({ content: w })),
  chunk({
    tool_calls: [{
      index: 0,
      id: "call_Qm3dX0a9LkT7",
      type: "function",
      function: { name: "search_code", arguments: "" },
    }],
  }),
  ...fragments.map((f) => chunk({ tool_calls: [{ index: 0, function: { arguments: f } }] })),
  chunk({}, "tool_calls"),
  {
    data: {
      ...head,
      choices: [],
      usage: {
        prompt_tokens: 412,
        completion_tokens: 31,
        total_tokens: 443,
        prompt_tokens_details: { cached_tokens: 256, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
      },
      obfuscation: "q8Zk",
    },
  },
  { data: "[DONE]" },
];
const STREAM_BODY = recordSse(STREAM);

const RESPONSE = JSON.stringify({
  id,
  object: "chat.completion",
  created: 1764031200,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: "Let me search for where maxAttempts is read.",
      refusal: null,
      annotations: [],
      tool_calls: [{
        id: "call_Qm3dX0a9LkT7",
        type: "function",
        function: { name: "search_code", arguments: fragments.join("") },
      }],
    },
    logprobs: null,
    finish_reason: "tool_calls",
  }],
  usage: {
    prompt_tokens: 412,
    completion_tokens: 31,
    total_tokens: 443,
    prompt_tokens_details: { cached_tokens: 256, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  },
  service_tier: "default",
  system_fingerprint: "fp_560af6e559",
});

await benchAdapter("openai", openaiAdapter, {
  target,
  response: RESPONSE,
  stream: STREAM_BODY,
  requestLabel: "tools, tool result",
  responseLabel: "tool call",
});
