/**
 * `deno task bench`: Mistral's request, response and stream translation for an agent turn with
 * tool calls. The stream is a recorded 20-event body as Mistral sends it (the tool call whole in
 * one chunk, usage riding on the finish chunk, no `stream_options`) fed through `SseParser` →
 * `stream()`, as served: the OpenAI base splits the usage off into its own chunk.
 */
import { benchAdapter, benchTarget, type RecordedEvent, recordSse } from "../bench_fixtures.ts";
import { mistralAdapter } from "./index.ts";

const target = benchTarget("mistral", "mistral-large-latest");
const head = {
  id: "cf79f7daaee244b1a0ae5c7b1444424a",
  object: "chat.completion.chunk",
  created: 1764031200,
  model: "mistral-large-latest",
};
const chunk = (delta: unknown, finish: string | null = null, extra = {}): RecordedEvent => ({
  data: { ...head, choices: [{ index: 0, delta, finish_reason: finish }], ...extra },
});
const text = "I will search the repository for every place where maxAttempts is read and check " +
  "the retry call.";
const words = text.split(/(?= )/);
const pieces = Array.from(
  { length: 17 },
  (_, i) => words.slice(Math.floor(i * words.length / 17), Math.floor((i + 1) * words.length / 17)),
).map((w) => w.join(""));
const call = {
  id: "D681PevKs",
  type: "function",
  function: { name: "search_code", arguments: '{"pattern": "maxAttempts", "glob": "src/**/*.ts"}' },
  index: 0,
};
const usage = { prompt_tokens: 421, total_tokens: 462, completion_tokens: 41 };

/** 20 events: role, 17 text pieces, the tool call with finish and usage, `[DONE]`. */
const STREAM: RecordedEvent[] = [
  chunk({ role: "assistant", content: "" }),
  ...pieces.map((content) => chunk({ content })),
  chunk({ tool_calls: [call] }, "tool_calls", { usage }),
  { data: "[DONE]" },
];
const STREAM_BODY = recordSse(STREAM);

const RESPONSE = JSON.stringify({
  id: head.id,
  object: "chat.completion",
  created: head.created,
  model: head.model,
  choices: [{
    index: 0,
    message: { role: "assistant", content: text, tool_calls: [call], prefix: false },
    finish_reason: "tool_calls",
  }],
  usage,
});

await benchAdapter("mistral", mistralAdapter, {
  target,
  response: RESPONSE,
  stream: STREAM_BODY,
  requestLabel: "tools, tool result",
  responseLabel: "tool call",
});
