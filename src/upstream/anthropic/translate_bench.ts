/**
 * `deno task bench`: Anthropic's request, response and stream translation for an agent turn with
 * tool calls. The stream is a recorded 20-event Messages API body (message_start, a text block, a
 * tool_use block in input_json_delta fragments, message_delta, message_stop) fed through
 * `SseParser` → `stream()`, as served.
 */
import { benchAdapter, benchTarget, type RecordedEvent, recordSse } from "../bench_fixtures.ts";
import { anthropicAdapter } from "./index.ts";

const target = benchTarget("anthropic", "claude-sonnet-4-5");
const id = "msg_01XFDUDYJgAACzvnptvVoYEL";
const model = "claude-sonnet-4-5-20250929";
const named = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  event: type,
  data: { type, ...data },
});
const words = ["Let", " me", " search", " for", " where", " maxAttempts", " is", " read."];
const fragments = ['{"pattern": "', "maxAttempts", '", "glob": "src/', '**/*.ts"}'];
const usage = {
  input_tokens: 156,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 256,
  output_tokens: 1,
  service_tier: "standard",
};

/** 20 events, as Anthropic sends them for a text block followed by a tool call. */
const STREAM: RecordedEvent[] = [
  named("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  }),
  named("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  named("ping", {}),
  ...words.map((text) =>
    named("content_block_delta", { index: 0, delta: { type: "text_delta", text } })
  ),
  named("content_block_stop", { index: 0 }),
  named("content_block_start", {
    index: 1,
    content_block: {
      type: "tool_use",
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "search_code",
      input: {},
    },
  }),
  ...fragments.map((partial_json) =>
    named("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json } })
  ),
  named("content_block_stop", { index: 1 }),
  named("message_delta", {
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 42 },
  }),
  named("message_stop", {}),
];
const STREAM_BODY = recordSse(STREAM);

const RESPONSE = JSON.stringify({
  id,
  type: "message",
  role: "assistant",
  model,
  content: [
    { type: "text", text: words.join("") },
    {
      type: "tool_use",
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "search_code",
      input: { pattern: "maxAttempts", glob: "src/**/*.ts" },
    },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: { ...usage, output_tokens: 42 },
});

await benchAdapter("anthropic", anthropicAdapter, {
  target,
  response: RESPONSE,
  stream: STREAM_BODY,
  requestLabel: "tools, tool result",
  responseLabel: "text + tool_use",
});
