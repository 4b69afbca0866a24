/**
 * `deno task bench`: Gemini's request, response and stream translation for an agent turn with
 * tool calls. The stream is a recorded 20-event `streamGenerateContent?alt=sse` body (each event
 * a whole `GenerateContentResponse`: 18 text pieces, a `functionCall`, the finish with usage) fed
 * through `SseParser` → `stream()`, as served.
 */
import { benchAdapter, benchTarget, type RecordedEvent, recordSse } from "../bench_fixtures.ts";
import { geminiAdapter } from "./index.ts";

const target = benchTarget("gemini", "gemini-2.5-flash");
const head = { modelVersion: "gemini-2.5-flash", responseId: "mKwlafXnB5yVz7IPr6Ht8Qc" };
const running = (candidates: number) => ({
  promptTokenCount: 398,
  candidatesTokenCount: candidates,
  totalTokenCount: 398 + candidates,
  promptTokensDetails: [{ modality: "TEXT", tokenCount: 398 }],
});
const piece = (parts: unknown[], n: number, finishReason?: string): RecordedEvent => ({
  data: {
    candidates: [{
      content: { parts, role: "model" },
      index: 0,
      ...(finishReason ? { finishReason } : {}),
    }],
    usageMetadata: running(n),
    ...head,
  },
});
const text = "I will search the repository for every place maxAttempts is read, then check " +
  "whether retry() receives it.";
const words = text.split(/(?= )/);
const pieces = Array.from(
  { length: 18 },
  (_, i) => words.slice(Math.floor(i * words.length / 18), Math.floor((i + 1) * words.length / 18)),
).map((w) => w.join(""));
const call = {
  functionCall: { name: "search_code", args: { pattern: "maxAttempts", glob: "src/**/*.ts" } },
  thoughtSignature: "CiQB0e2Kb7Tq4m3Zr8m1Yp1bXWwKxXn0Hc5nR1w2c3VhZ2dlc3Q=",
};

/** 20 events: 18 text pieces, the function call, then the finish with the final usage. */
const STREAM: RecordedEvent[] = [
  ...pieces.map((t, i) => piece([{ text: t }], i + 1)),
  piece([call], 26),
  {
    data: {
      candidates: [{
        content: { parts: [{ text: "" }], role: "model" },
        finishReason: "STOP",
        index: 0,
      }],
      usageMetadata: { ...running(27), thoughtsTokenCount: 64, totalTokenCount: 489 },
      ...head,
    },
  },
];
const STREAM_BODY = recordSse(STREAM);

const RESPONSE = JSON.stringify({
  candidates: [{
    content: { parts: [{ text }, call], role: "model" },
    finishReason: "STOP",
    avgLogprobs: -0.18,
    index: 0,
  }],
  usageMetadata: { ...running(27), thoughtsTokenCount: 64, totalTokenCount: 489 },
  ...head,
});

await benchAdapter("gemini", geminiAdapter, {
  target,
  response: RESPONSE,
  stream: STREAM_BODY,
  requestLabel: "tools, tool result",
  responseLabel: "text + functionCall",
});
